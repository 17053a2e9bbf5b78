/** The exact environment variables a container step sees (contract, "Container steps"). */
export const SANDBOX_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

export function stepEnvironment(startedAt: Date | null): Record<string, string> {
  const env: Record<string, string> = {
    HOME: "/work",
    TZ: "UTC",
    LANG: "C.UTF-8",
    LC_ALL: "C.UTF-8",
    PYTHONHASHSEED: "0",
    PYTHONDONTWRITEBYTECODE: "1",
    PATH: SANDBOX_PATH,
  };
  // Whole seconds, fraction dropped (truncated toward zero, also before 1970).
  if (startedAt !== null) env.SOURCE_DATE_EPOCH = String(Math.trunc(startedAt.getTime() / 1000));
  return env;
}
