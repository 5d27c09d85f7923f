import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

// The shops a test file has running, by data folder, so a failed test can say what their
// processes complained about: CI keeps only the test output, never the shop's log files.
const liveDataDirs = new Set<string>();

export function trackShop(dataDir: string): () => void {
  liveDataDirs.add(dataDir);
  return () => liveDataDirs.delete(dataDir);
}

// Apps log "warn"; daprd logs "warning" for its start-up notices, which are noise here.
const complaint = /"level":"(warn|error|fatal)"|level=(error|fatal)/;

/** The last warnings and errors of every process of every running shop, newest last. */
export function failureReport(linesPerProcess = 12): string {
  const sections: string[] = [];
  for (const dataDir of liveDataDirs) {
    const logs = join(dataDir, 'logs');
    let files: string[] = [];
    try {
      files = readdirSync(logs).filter((file) => file.endsWith('.log'));
    } catch {
      continue;
    }
    for (const file of files.sort()) {
      const lines = readFileSync(join(logs, file), 'utf8')
        .split('\n')
        .filter((line) => complaint.test(line))
        .slice(-linesPerProcess)
        .map((line) => `  ${line.slice(0, 400)}`);
      if (lines.length > 0) sections.push(`${file}:`, ...lines);
    }
  }
  return sections.join('\n');
}
