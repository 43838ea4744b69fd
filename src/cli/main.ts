#!/usr/bin/env node
/**
 * The `synapse-g` command line. Each subcommand lives in its own file and only parses arguments;
 * the work is done by the library. Errors print one clear line and exit non-zero.
 */
import { Command, CommanderError } from 'commander';
import { SynapseError } from '../errors';
import { version } from './version';
import { registerClassifier } from './classifier';
import { registerCompare } from './compare';
import { registerDemo } from './demo';
import { registerEmbed } from './embed';
import { registerGenerate } from './generate';
import { registerLabel, registerMine } from './mine';
import { registerMineLarge } from './mine-large';
import { registerTheory } from './theory';

export function buildProgram(): Command {
  const program = new Command('synapse-g')
    .description('Find rare positives in an unlabeled corpus, starting from LLM-written seeds (SYNAPSE-G).')
    .version(version)
    .showHelpAfterError()
    .exitOverride();
  // Subcommands register here, one line each.
  registerEmbed(program);
  registerGenerate(program);
  registerMine(program);
  registerLabel(program);
  registerMineLarge(program);
  registerCompare(program);
  registerDemo(program);
  registerTheory(program);
  registerClassifier(program);
  return program;
}

/** Run the CLI with `argv` (as in `process.argv`). Resolves to the exit code. */
export async function runCli(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv]);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // commander already printed the message (and help for usage errors)
      return e.exitCode === 0 ? 0 : 2;
    }
    if (e instanceof SynapseError) {
      process.stderr.write(`synapse-g: error: ${e.message}\n`);
      return 1;
    }
    const err = e as Error;
    process.stderr.write(`synapse-g: internal error: ${err?.stack ?? String(e)}\n`);
    return 1;
  }
}

if (require.main === module) {
  runCli(process.argv).then((code) => {
    process.exitCode = code;
  });
}
