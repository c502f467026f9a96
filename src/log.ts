/**
 * Structured logger: one line per record, JSON or `key=value` text, on stderr.
 * Callers pass fields, never secrets: tokens and keys must not reach a logger.
 *
 * @example
 * const log = createLogger({ level: "info", format: "json" });
 * log.warn("upstream unreachable", { server: "https://127.0.0.1:6443" });
 */
export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFormat = "json" | "text";
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  enabled(level: LogLevel): boolean;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

function formatText(time: string, level: LogLevel, msg: string, fields: LogFields): string {
  let line = `${time} ${level.toUpperCase()} ${msg}`;
  for (const [key, value] of Object.entries(fields)) {
    const text = typeof value === "string" ? value : JSON.stringify(value);
    line += ` ${key}=${/[\s"=]/.test(text) ? JSON.stringify(text) : text}`;
  }
  return line;
}

/**
 * Writes a record to stderr. A stderr that breaks (its reader gone: EPIPE; a log file on a full
 * disk: ENOSPC) loses the records written meanwhile, never the process: unhandled, that stream
 * error ends it, and under `Restart=always` the node would lose its proxy over a log line.
 */
function writeStderr(line: string): void {
  if (process.stderr.listenerCount("error") === 0) process.stderr.on("error", () => {});
  process.stderr.write(line + "\n");
}

export function createLogger(options: {
  level: LogLevel;
  format: LogFormat;
  write?: (line: string) => void;
}): Logger {
  const threshold = RANK[options.level];
  const write = options.write ?? writeStderr;
  const emit = (level: LogLevel, msg: string, fields: LogFields = {}) => {
    if (RANK[level] < threshold) return;
    const time = new Date().toISOString();
    write(
      options.format === "json"
        ? JSON.stringify({ time, level, msg, ...fields })
        : formatText(time, level, msg, fields),
    );
  };
  return {
    debug: (msg, fields) => emit("debug", msg, fields),
    info: (msg, fields) => emit("info", msg, fields),
    warn: (msg, fields) => emit("warn", msg, fields),
    error: (msg, fields) => emit("error", msg, fields),
    enabled: (level) => RANK[level] >= threshold,
  };
}

/** A logger that drops everything; for tests and library use. */
export const silentLogger: Logger = createLogger({ level: "error", format: "json", write: () => {} });
