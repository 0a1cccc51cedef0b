// Preloaded (`--import`) into a process the bench times: its peak memory, written to stderr as it exits.
process.on("exit", () => {
  process.stderr.write(`\nmax_rss_kb=${process.resourceUsage().maxRSS}\n`);
});
