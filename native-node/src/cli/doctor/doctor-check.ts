/** One line of `rung-agent doctor`. */
export interface DoctorCheck {
  /** What was checked: `gpu`, `model rung-tiny`, `edge http`. */
  name: string;
  ok: boolean;
  /** What was found, in one line. */
  detail: string;
  /** How to fix it, in one line; only on failure. */
  fix?: string;
}

export const pass = (name: string, detail: string): DoctorCheck => ({ name, ok: true, detail });
export const fail = (name: string, detail: string, fix: string): DoctorCheck => ({ name, ok: false, detail, fix });
