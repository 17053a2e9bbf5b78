export { latestVerification, readHistory, recordHistory } from "./artifact-history.js";
export { dayOf, timelineSentence } from "./timeline-sentence.js";
export type { HistoryEntry, HistoryImage, HistoryOrigin, HistoryVerdict } from "./history-entry.js";
export { currentContentHash } from "./artifact-head.js";
export { stoppedReproducing } from "./stopped-reproducing.js";
export type { StoppedReproducing } from "./stopped-reproducing.js";
