// Preloaded into a benchmarked process: reports its peak resident memory and the CPU time it used
// (every thread, user and system) when it exits.
process.on('exit', () => {
  const usage = process.resourceUsage();
  process.stderr.write(`\n@@maxrss-kb ${usage.maxRSS}\n@@cpu-us ${usage.userCPUTime + usage.systemCPUTime}\n`);
});
