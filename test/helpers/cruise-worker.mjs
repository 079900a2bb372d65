// Runs dependency-cruiser with the project's rules on the src/ of each folder it is sent, and posts
// back each result's summary; a message without a folder ends it. Plain JavaScript in a thread of its
// own, started without the TypeScript loader: under tsx's loader, dependency-cruiser's swc visitor
// does not load. One thread serves every request, as swc's native module crashes the process when a
// second thread loads it after a first has ended.
import { parentPort, workerData } from 'node:worker_threads';
import { cruise } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';

const options = await extractDepcruiseOptions(workerData.config);
parentPort.on('message', async (baseDir) => {
  if (!baseDir) return parentPort.close();
  try {
    const { output } = await cruise(['src'], { ...options, baseDir });
    parentPort.postMessage({ summary: output.summary });
  } catch (err) {
    parentPort.postMessage({ error: String(err?.message ?? err) });
  }
});
