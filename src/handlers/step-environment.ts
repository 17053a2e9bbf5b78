/** The exact environment variables a container step sees (contract, "Container steps"). */
export const SANDBOX_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** `sourceDateEpoch`: started_at in whole seconds (chain/recorded-time.ts); null leaves it out. */
export function stepEnvironment(sourceDateEpoch: number | null): Record<string, string> {
  const env: Record<string, string> = {
    HOME: "/work",
    TZ: "UTC",
    LANG: "C.UTF-8",
    LC_ALL: "C.UTF-8",
    PYTHONHASHSEED: "0",
    PYTHONDONTWRITEBYTECODE: "1",
    PATH: SANDBOX_PATH,
  };
  if (sourceDateEpoch !== null) env.SOURCE_DATE_EPOCH = String(sourceDateEpoch);
  return env;
}
