export { resolveSettings } from "./settings.js";
export type { Settings, SettingsFlags } from "./settings.js";
export { redactDatabaseUrl, withoutDatabaseSecrets } from "./redact-url.js";
