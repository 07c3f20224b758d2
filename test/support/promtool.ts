/**
 * Runs the real `promtool check metrics` (Debian package `prometheus`) on exposition text.
 * `code` is promtool's exit code (0 = clean); `output` its stdout and stderr together (lint findings are
 * printed one per line). Override the binary with ACCRUE_PROMTOOL.
 */
import { spawn } from 'node:child_process';

export const PROMTOOL = process.env.ACCRUE_PROMTOOL ?? '/usr/bin/promtool';

export function promtoolCheckMetrics(text: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(PROMTOOL, ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      output += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      output += d;
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      resolve({ code: code ?? (signal ? 128 : 1), output });
    });
    child.stdin.on('error', () => {
      // promtool may exit before reading everything; its exit code tells the story.
    });
    child.stdin.end(text);
  });
}
