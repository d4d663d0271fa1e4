import { z } from 'zod';
import { ConfigSchema } from '../config/schema.js';
import { RecipeFileSchema } from '../recipe/schema.js';
import { UsageError } from '../errors.js';

/** JSON Schema for editors (yaml-language-server), generated from the zod schemas outloop validates with. */
export async function schemaCommand(which: string): Promise<number> {
  const schemas = { recipe: RecipeFileSchema, config: ConfigSchema } as const;
  if (which !== 'recipe' && which !== 'config') throw new UsageError(`unknown schema "${which}" (recipe or config)`);
  const json = z.toJSONSchema(schemas[which], { io: 'input', unrepresentable: 'any' });
  const titled = { $id: `https://outloop.dev/schema/${which}.schema.json`, title: which === 'recipe' ? 'Outloop recipe file' : 'Outloop config.yaml', ...json };
  process.stdout.write(`${JSON.stringify(titled, null, 2)}\n`);
  return 0;
}
