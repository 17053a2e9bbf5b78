export { visibleJson, visibleLines, visibleText } from "./visible-text.js";
