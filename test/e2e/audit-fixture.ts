import { configYaml, type E2E, makeE2E } from './helpers.js';

/** The `au` service the audit tests drive: `au.echo -p n=N` prints `call N <token>` (masked on the way out). */
export const AU_RECIPES = `service: au
secrets: [TOKEN]
recipes:
  echo:
    description: print the call number
    params:
      n: { type: integer, min: 0, max: 1000 }
    run: [sh, -c, 'echo "call {{params.n}} $T"']
    env: { T: "{{secrets.TOKEN}}" }
  marker:
    description: touches a marker file in the project
    run: [sh, -c, 'touch "$1/marker"', sh, '{{project}}']
    env: { T: "{{secrets.TOKEN}}" }
    sandbox: { paths: [{ path: "{{project}}", mode: rw }] }
`;

/** A tenant `acme` granted every `au` recipe, with `token` stored as local:acme/token. */
export async function makeAuditE2E(token: string): Promise<E2E> {
  const e = makeE2E(['acme']);
  e.writeRecipe('au', AU_RECIPES);
  e.writeConfig(configYaml(e, { acme: 'au:\n  secrets: { TOKEN: "local:acme/token" }\n  allow: ["*"]' }));
  await e.setSecret('local:acme/token', token);
  return e;
}
