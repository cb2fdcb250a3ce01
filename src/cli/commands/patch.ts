import type { Command } from 'commander';
import { applyPatchFile, codecNames, createPatchFile, DEFAULT_PATCH_CODEC } from '../../patch/registry.js';
import { outputOf } from '../context.js';
import { formatBytes, ProgressBar, printResult } from '../render.js';

/** `notsotuf patch create|apply`: the delta engine on its own, for users and benchmarks. */
export function registerPatch(program: Command): void {
  const patch = program
    .command('patch')
    .description('make and apply binary patches between uncompressed tars');

  patch
    .command('create')
    .description('write a patch that turns <old> into <new>')
    .argument('<old>', 'the previous file (uncompressed tar)')
    .argument('<new>', 'the new file (uncompressed tar)')
    .argument('<out>', 'the patch file to write')
    .option('--codec <name>', `patch codec (${codecNames().join(', ')})`, DEFAULT_PATCH_CODEC)
    .action(async (oldPath: string, newPath: string, outPath: string, opts, command: Command) => {
      const out = outputOf(command);
      const bar = new ProgressBar('diffing', out);
      const started = Date.now();
      const result = await createPatchFile({
        codec: opts.codec,
        oldPath,
        newPath,
        outPath,
        onProgress: (p) => bar.update(p.done, p.total),
      });
      bar.done();
      const seconds = (Date.now() - started) / 1000;
      printResult(
        out,
        { ok: true, ...result, seconds },
        () => `${outPath}: ${formatBytes(result.size)} (${result.codec}, ${seconds.toFixed(1)} s)`,
      );
    });

  patch
    .command('apply')
    .description('rebuild <out> from <old> and a patch (the codec is read from the patch)')
    .argument('<old>', 'the base file')
    .argument('<patch>', 'the patch file')
    .argument('<out>', 'the file to write')
    .option('--expect-size <n>', 'fail unless the result has this size')
    .option('--expect-sha256 <hex>', 'fail unless the result has this sha256 (give with --expect-size)')
    .action(async (oldPath: string, patchPath: string, outPath: string, opts, command: Command) => {
      const out = outputOf(command);
      const bar = new ProgressBar('patching', out);
      const result = await applyPatchFile({
        oldPath,
        patchPath,
        outPath,
        ...(opts.expectSize && opts.expectSha256
          ? { expected: { size: Number(opts.expectSize), sha256: String(opts.expectSha256).toLowerCase() } }
          : {}),
        onProgress: (p) => bar.update(p.done, p.total),
      });
      bar.done();
      printResult(
        out,
        { ok: true, ...result },
        () => `${outPath}: ${formatBytes(result.size)} sha256 ${result.sha256} (${result.codec})`,
      );
    });
}
