export { makeFolders } from "./make-folders.js";
export type { FolderPurpose } from "./make-folders.js";
export { TreeRemovalError, removeTree } from "./remove-tree.js";
