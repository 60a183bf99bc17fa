import { hostname } from "node:os";

/** The settings part of `start --help` and `doctor --help`: both read the same configuration. */
export const configUsage = `Settings: a flag wins over its environment variable, which wins over the config file.
  --edge <url>           The edge's base URL, e.g. http://127.0.0.1:8787.
                         Env RUNG_EDGE, file "edge".
  --model, -m <model>    A .gguf file or hf:user/repo:quant URI; repeat for several. The id
                         clients use is the file (or repo) name; set it with id=<model>.
                         Env RUNG_MODELS (comma-separated), file "models" (a list).
                         echo:<id> serves <id> with the echo engine instead, a benchmark
                         aid that repeats the prompt up to max_tokens, instantly; never a
                         model, and not mixed with .gguf models in one agent.
  --name <name>          How the node shows up at the edge. Default: ${hostname()}.
                         Env RUNG_NAME, file "name".
  --token <token>        The edge's join token. Env RUNG_TOKEN, file "token".
  --pool <name>          The pool to join: 1 to 32 lowercase letters, digits or dashes.
                         Default: the pool the join token names (tokens from the admin
                         API name one), else main. A token bound to another pool is
                         refused. Env RUNG_POOL, file "pool".
  --threads <n>          CPU threads per model. Default: half the CPU cores. Threads that
                         compete for cores make decoding much slower.
                         Env RUNG_THREADS, file "threads".
  --gpu <backend>        auto, cuda, vulkan, metal or false (CPU only). Default: auto.
                         Env RUNG_GPU, file "gpu".
  --slots <n>            Jobs each model runs at once (context sequences). Default: 2.
                         Env RUNG_SLOTS, file "slots".
  --context-size <n>     Context tokens per slot. Default: the model's trained context, at
                         most 4096. File "contextSize".
  --drain-timeout <s>    On SIGTERM/SIGINT, seconds to let running jobs finish. Default: 30.
                         File "drainTimeout".
  --log-format <format>  text (readable lines) or json (one object a line on stderr, for
                         journald and log shippers). Default: text.
                         Env RUNG_LOG_FORMAT, file "logFormat".
  --memory-limit <size>  Memory all models may use together (VRAM with a GPU, RAM without),
                         with a decimal unit: 8G (8,000,000,000 bytes), 512M. At most what is
                         free at start, the default. Env RUNG_MEMORY_LIMIT, file "memoryLimit"
                         (a size, or a number of bytes).
  --transport <t>        auto, websocket or tunnel. auto holds a WebSocket and falls back
                         to the tunnel when the upgrade is refused or the socket keeps
                         dropping. Default: auto. Env RUNG_TRANSPORT, file "transport".
  --public-url <url>     Tunnel transport: the URL the edge reaches this node at, for a
                         tunnel you run. Default: start cloudflared if it is installed.
                         Env RUNG_PUBLIC_URL, file "publicUrl".
  --tunnel-port <port>   Tunnel transport: local port of the node's HTTP endpoint (what
                         your tunnel points at). Default: a free port. Env
                         RUNG_TUNNEL_PORT, file "tunnelPort".
  --fault-first-token-delay-ms <ms>
                         Testing aid: every job waits this long before its first token
                         (cancels still end it at once), to exercise an edge's hedging and
                         timeouts. Default: 0 (off). Env RUNG_FAULT_FIRST_TOKEN_DELAY_MS,
                         file "faultFirstTokenDelayMs".
  --fault-fail-jobs <n>  Testing aid: the first n jobs fail with a retryable fault_injected
                         error, to exercise retries and breakers. Default: 0 (off).
                         Env RUNG_FAULT_FAIL_JOBS, file "faultFailJobs".
  --config <path>        A JSON file with the keys above. Env RUNG_CONFIG. Default:
                         $XDG_CONFIG_HOME/rung/agent.json (or ~/.config/rung/agent.json)
                         when it exists. Unknown keys are an error; relative model paths
                         are relative to the file.`;
