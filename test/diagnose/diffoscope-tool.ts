/** The diffoscope version the test image carries (its label), as the manifest's `diff.tool` quotes it. */
import { DIFFOSCOPE_IMAGE, DIFFOSCOPE_LABEL } from "../../src/diagnose/index.js";
import { connectDockerEngine } from "../../src/runner/index.js";

export async function diffoscopeTool(): Promise<string> {
  const image = await connectDockerEngine({}).inspectImage(DIFFOSCOPE_IMAGE);
  const tool = image?.labels[DIFFOSCOPE_LABEL];
  if (tool === undefined) {
    throw new Error(`${DIFFOSCOPE_IMAGE} is missing: run bash scripts/setup-host.sh diffoscope-image`);
  }
  return tool;
}
