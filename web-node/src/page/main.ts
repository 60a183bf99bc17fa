document.querySelector("#app")!.textContent = "Rung donate page";
