// Preloaded into a benchmarked process: reports its peak resident memory when it exits.
process.on('exit', () => {
  process.stderr.write(`\n@@maxrss-kb ${process.resourceUsage().maxRSS}\n`);
});
