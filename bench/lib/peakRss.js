'use strict';
const fs = require('node:fs');

/**
 * This process's peak resident set size in bytes: VmHWM from /proc where there is one,
 * `resourceUsage().maxRSS` elsewhere. Not maxRSS first: Linux carries it over from the parent
 * across fork + exec, so a child of a parent that once held 600 MB reports 600 MB itself;
 * VmHWM belongs to the process's own memory map, which exec starts afresh.
 */
function peakRssBytes() {
  try {
    const m = /VmHWM:\s+(\d+)\s+kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // No /proc (macOS, Windows): fall through.
  }
  return process.resourceUsage().maxRSS * 1024;
}

module.exports = { peakRssBytes };
