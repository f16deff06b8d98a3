/**
 * OPERATIONS.md, "Task runners and docs": the justfile has the twelve Docker recipes with their
 * aliases plus dev/test/check/bench; the Makefile has the same targets and runs the same
 * commands (`make -n`); every Docker stage a recipe builds exists.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { describeWithService } from '../support/services.js';
import { ROOT, hasCommand, run } from './run.js';

const JUSTFILE = readFileSync(join(ROOT, 'justfile'), 'utf8');
const MAKEFILE = readFileSync(join(ROOT, 'Makefile'), 'utf8');

const DOCKER_RECIPES: Record<string, string> = {
  'docker-backend-cache': 'dbc',
  'docker-frontend-cache': 'dfc',
  'docker-backend-binary': 'dbb',
  'docker-frontend-binary': 'dfb',
  'docker-backend-image': 'dbi',
  'docker-frontend-image': 'dfi',
  'docker-backend-up': 'dbu',
  'docker-frontend-up': 'dfu',
  'docker-backend-stop': 'dbs',
  'docker-frontend-stop': 'dfs',
  'docker-backend-recreate': 'dbr',
  'docker-frontend-recreate': 'dfr',
};

/** recipe name → command lines (echo banners left out), from the justfile. */
function justRecipes(): Map<string, string[]> {
  const recipes = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of JUSTFILE.split('\n')) {
    const head = /^([a-z][a-z0-9-]*)(?: [^:]*)?:(?!=)/.exec(line);
    if (head && !line.startsWith('set ') && !line.startsWith('alias ')) {
      current = [];
      recipes.set(head[1]!, current);
    } else if (/^ {4}\S/.test(line) && current) {
      const command = line.trim();
      if (!command.startsWith('@')) current.push(command);
    } else if (!line.startsWith(' ')) {
      current = undefined;
    }
  }
  return recipes;
}

function justAliases(): Map<string, string> {
  return new Map([...JUSTFILE.matchAll(/^alias (\S+) := (\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
}

function makeTargets(): Set<string> {
  return new Set(
    [...MAKEFILE.matchAll(/^([a-z][a-z0-9-]*):(?!=)/gm)].map((m) => m[1]!).filter((t) => t !== 'help'),
  );
}

/** A justfile command with its variables as the Makefile's defaults set them. */
function asMakeWould(command: string): string {
  return command
    .replaceAll('{{docker}}', 'docker')
    .replaceAll('{{compose}}', 'docker compose')
    .replaceAll('{{backend_image}}', 'elizabeth-backend:latest')
    .replaceAll('{{frontend_image}}', 'elizabeth-frontend:latest')
    .replaceAll('{{ARGS}}', '')
    .replaceAll('{{NAME}}', 'elizabeth_backup_20260101_120000')
    .replaceAll('{{URL}}', 'postgres://u:p@db/x')
    .replace(/\s+/g, ' ')
    .trim();
}

describe('justfile', () => {
  const recipes = justRecipes();
  const aliases = justAliases();

  it('has the twelve Docker recipes with the aliases of the note', () => {
    for (const [recipe, alias] of Object.entries(DOCKER_RECIPES)) {
      expect(recipes.has(recipe), recipe).toBe(true);
      expect(aliases.get(alias), alias).toBe(recipe);
    }
  });

  it('has dev, test, check and bench recipes running the npm scripts', () => {
    expect(recipes.get('dev')).toEqual(['npm run dev']);
    expect(recipes.get('test')).toEqual(['npm test -- {{ARGS}}']);
    expect(recipes.get('check')).toEqual(['npm run check']);
    expect(recipes.get('bench')).toEqual(['npm run bench']);
  });

  it('builds only stages that exist in the Dockerfiles', () => {
    for (const commands of recipes.values()) {
      for (const c of commands) {
        const m = /--target (\S+) -f (Dockerfile\.\w+)/.exec(c);
        if (m) expect(readFileSync(join(ROOT, m[2]!), 'utf8'), c).toMatch(new RegExp(` AS ${m[1]}\\n`));
      }
    }
  });

  it('aliases point at existing recipes', () => {
    for (const target of aliases.values()) expect(recipes.has(target), target).toBe(true);
  });
});

describe('Makefile', () => {
  it('has a target for every justfile recipe and alias', () => {
    const targets = makeTargets();
    for (const name of [...justRecipes().keys(), ...justAliases().keys()]) {
      if (name === 'default') continue;
      expect(targets.has(name), name).toBe(true);
    }
  });
});

describeWithService(
  'make',
  hasCommand('make') ? { available: true } : { available: false, reason: 'make is not installed' },
  'make -n',
  () => {
    const recipes = justRecipes();
    const aliases = justAliases();
    const targets = [...makeTargets()].sort();
    const vars = ['BACKUP=elizabeth_backup_20260101_120000', 'URL=postgres://u:p@db/x'];

    it.each(targets)('make -n %s runs what the justfile recipe runs', async (target) => {
      const result = await run('make', ['-n', target, ...vars], {
        env: { PATH: process.env.PATH, HOME: process.env.HOME },
      });
      expect(result.code, result.stderr).toBe(0);
      const printed = result.stdout
        .split('\n')
        .map((l) => l.replace(/\s+/g, ' ').trim())
        .filter(Boolean);
      const recipe = recipes.get(aliases.get(target) ?? target);
      expect(recipe, `justfile recipe for ${target}`).toBeDefined();
      for (const command of recipe!) expect(printed).toContain(asMakeWould(command));
    });
  },
);
