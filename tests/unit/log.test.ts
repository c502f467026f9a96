import { describe, expect, test } from "bun:test";
import { createLogger, silentLogger, type LogFormat, type LogLevel } from "../../src/log.ts";

function capture(level: LogLevel, format: LogFormat) {
  const lines: string[] = [];
  return { lines, log: createLogger({ level, format, write: (line) => lines.push(line) }) };
}

const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

describe("json format", () => {
  test("one JSON object per record: time, level, msg, then the fields", () => {
    const { lines, log } = capture("debug", "json");
    log.warn("upstream unreachable", { server: "https://127.0.0.1:6443", attempt: 2, ok: false, tags: ["a"] });
    expect(lines).toHaveLength(1);
    const record = JSON.parse(lines[0]!);
    expect(Object.keys(record)).toEqual(["time", "level", "msg", "server", "attempt", "ok", "tags"]);
    expect(record).toMatchObject({ level: "warn", msg: "upstream unreachable", server: "https://127.0.0.1:6443", attempt: 2, ok: false, tags: ["a"] });
    expect(record.time).toMatch(ISO_TIME);
  });

  test("a record is one line even when the message has newlines", () => {
    const { lines, log } = capture("info", "json");
    log.error("two\nlines", { detail: "a\nb" });
    expect(lines[0]).not.toContain("\n");
    expect(JSON.parse(lines[0]!)).toMatchObject({ msg: "two\nlines", detail: "a\nb" });
  });

  test("no fields: just time, level, msg", () => {
    const { lines, log } = capture("info", "json");
    log.info("started");
    expect(Object.keys(JSON.parse(lines[0]!))).toEqual(["time", "level", "msg"]);
  });
});

describe("text format", () => {
  test("time LEVEL msg key=value", () => {
    const { lines, log } = capture("debug", "text");
    log.info("cert loaded", { cn: "system:node:edge-1", serial: "0A1B", count: 3, ok: true });
    const [time, ...rest] = lines[0]!.split(" ");
    expect(time).toMatch(ISO_TIME);
    expect(rest.join(" ")).toBe("INFO cert loaded cn=system:node:edge-1 serial=0A1B count=3 ok=true");
  });

  test("values with spaces, quotes, = or newlines are quoted; objects are JSON", () => {
    const { lines, log } = capture("debug", "text");
    log.warn("x", { error: "connect ECONNREFUSED 127.0.0.1:6443", q: 'say "hi"', eq: "a=b", nl: "a\nb", list: [1, 2] });
    const line = lines[0]!;
    expect(line).not.toContain("\n");
    expect(line).toEndWith(
      ' WARN x error="connect ECONNREFUSED 127.0.0.1:6443" q="say \\"hi\\"" eq="a=b" nl="a\\nb" list=[1,2]',
    );
  });

  test.each([["debug", "DEBUG"], ["info", "INFO"], ["warn", "WARN"], ["error", "ERROR"]] as const)(
    "level %s is written %s",
    (level, written) => {
      const { lines, log } = capture("debug", "text");
      log[level]("m");
      expect(lines[0]!.split(" ")[1]).toBe(written);
    },
  );
});

describe("level filtering", () => {
  const LEVELS: LogLevel[] = ["debug", "info", "warn", "error"];

  test.each(LEVELS)("threshold %s writes only that level and above", (threshold) => {
    const { lines, log } = capture(threshold, "json");
    for (const level of LEVELS) log[level](`at ${level}`);
    const expected = LEVELS.slice(LEVELS.indexOf(threshold));
    expect(lines.map((line) => JSON.parse(line).level)).toEqual(expected);
  });

  test.each(LEVELS)("enabled() under threshold %s agrees with what is written", (threshold) => {
    const { log } = capture(threshold, "text");
    const at = LEVELS.indexOf(threshold);
    expect(LEVELS.map((level) => log.enabled(level))).toEqual(LEVELS.map((_, i) => i >= at));
  });

  test("silentLogger writes nothing and reports debug as disabled", () => {
    const written: string[] = [];
    const original = process.stderr.write;
    process.stderr.write = ((chunk: string) => (written.push(String(chunk)), true)) as typeof process.stderr.write;
    try {
      silentLogger.error("nothing");
    } finally {
      process.stderr.write = original;
    }
    expect(written).toEqual([]);
    expect(silentLogger.enabled("debug")).toBe(false);
  });
});

test("without a write function, records go to stderr", () => {
  const written: string[] = [];
  const original = process.stderr.write;
  process.stderr.write = ((chunk: string) => (written.push(String(chunk)), true)) as typeof process.stderr.write;
  try {
    createLogger({ level: "info", format: "json" }).info("to stderr");
  } finally {
    process.stderr.write = original;
  }
  expect(written).toHaveLength(1);
  expect(written[0]).toEndWith("\n");
  expect(JSON.parse(written[0]!)).toMatchObject({ level: "info", msg: "to stderr" });
});

test("a stderr whose reader is gone loses log lines, not the process", async () => {
  const script = `import { createLogger } from ${JSON.stringify(`${import.meta.dir}/../../src/log.ts`)};
    const log = createLogger({ level: "info", format: "json" });
    for (let i = 0; i < 20000; i++) log.info("line", { i, pad: "x".repeat(200) });
    setTimeout(() => console.log("alive"), 100);`;
  const child = Bun.spawn([process.execPath, "-e", script], { stdout: "pipe", stderr: "pipe" });
  // The reader leaves at once: every write after the pipe's buffer fills fails with EPIPE.
  await child.stderr.cancel();
  const [code, stdout] = await Promise.all([child.exited, new Response(child.stdout).text()]);
  expect({ code, stdout }).toEqual({ code: 0, stdout: "alive\n" });
});
