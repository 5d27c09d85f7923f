import { describe, expect, it } from 'vitest';
import { ProcessGroup } from './processes.ts';

describe('a process group', () => {
  it("keeps each child's last 20 lines, to say why it died", async () => {
    const group = new ProcessGroup({ output: () => {}, onUnexpectedExit: () => {} });
    group.start({
      name: 'counter',
      command: 'sh',
      args: ['-c', 'for i in $(seq 1 30); do echo "line $i"; done; echo oops >&2; exit 3'],
      cwd: '/',
      env: {},
    });
    expect((await group.exited('counter')).code).toBe(3);
    // Output lines may trail the exit event by a tick.
    await new Promise((resolve) => setImmediate(resolve));
    const lines = group.recentOutput('counter');
    expect(lines).toHaveLength(20);
    expect(lines).toContain('oops');
    expect(lines).toContain('line 30');
    expect(lines).not.toContain('line 10');
  });
});
