/** Structured context for a log line: `{ jobId: "j_1", model: "rung-tiny" }`. */
export type LogFields = Record<string, unknown>;

/**
 * Where the agent's log lines go. `fields` is optional so every existing call
 * site (`log.info("joined")`) keeps working; new ones can add structure.
 */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

export type LogLevel = "debug" | "info" | "warn" | "error";

/** `text` for a person at a terminal, `json` for journald, Loki and friends. */
export type LogFormat = "text" | "json";

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export interface LoggerOptions {
  /** Lines below this level are dropped. Default `"info"`. */
  level?: LogLevel;
  /** Default `"text"`. */
  format?: LogFormat;
  /** Default `process.stderr`, so stdout stays free for anything a script might parse. */
  write?: (line: string) => void;
  /** Default `() => new Date()`; tests pin it. */
  now?: () => Date;
}

/**
 * text: `2025-01-01T12:00:00.000Z INFO  joined as node_1a2b3c4d model=rung-tiny`.
 * json: `{"time":"2025-01-01T12:00:00.000Z","level":"info","msg":"joined as node_1a2b3c4d","model":"rung-tiny"}`,
 * one object a line.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const threshold = RANK[options.level ?? "info"];
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const now = options.now ?? (() => new Date());
  const format = options.format === "json" ? jsonLine : textLine;
  const at = (level: LogLevel) => (message: string, fields?: LogFields) => {
    if (RANK[level] >= threshold) write(format(now().toISOString(), level, message, fields));
  };
  return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

function textLine(time: string, level: LogLevel, message: string, fields: LogFields | undefined): string {
  const extra = Object.entries(fields ?? {})
    .map(([key, value]) => ` ${key}=${typeof value === "string" && !/[\s"=]/.test(value) ? value : safeJson(value)}`)
    .join("");
  return `${time} ${level.toUpperCase().padEnd(5)} ${message}${extra}\n`;
}

function jsonLine(time: string, level: LogLevel, message: string, fields: LogFields | undefined): string {
  // A field called `time`, `level` or `msg` cannot overwrite the line's own.
  const { time: _t, level: _l, msg: _m, ...rest } = fields ?? {};
  return `${safeJson({ time, level, msg: message, ...rest })}\n`;
}

/** JSON that never throws: an Error keeps its message, a BigInt or cycle becomes text. */
function safeJson(value: unknown): string {
  try {
    return (
      JSON.stringify(value, (_key, v: unknown) =>
        v instanceof Error ? { name: v.name, message: v.message } : typeof v === "bigint" ? v.toString() : v,
      ) ?? "null"
    );
  } catch {
    return JSON.stringify(String(value));
  }
}

/** For tests and library use: drops everything. */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
