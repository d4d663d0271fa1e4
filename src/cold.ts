/**
 * Everything `outloop exec` does not need on its hot path, behind one dynamic import so the bundler
 * makes one lazy chunk of it (YAML, zod, linting, the other commands). esbuild splits shared code by the
 * set of entry points that reach it; one cold entry instead of one per command keeps the number of chunks
 * the hot path loads small, and each chunk costs a resolve, a read and a compile on every call.
 */
export { validateConfigText, validateConfigHeader, validateTenantSection, locateInConfig } from './config/validate.js';
export { lintRecipeText } from './recipe/lint.js';
export * as recipesCommands from './cli/recipes.js';
export * as secretsCommands from './cli/secrets.js';
export * as auditCommands from './cli/audit.js';
export { initCommand } from './cli/init.js';
export { importCommand, IMPORT_TARGETS } from './cli/import.js';
export { doctorCommand } from './cli/doctor.js';
export { demoCommand } from './cli/demo.js';
export { schemaCommand } from './cli/schema.js';
export { runProgram } from './cli/program.js';
export { mcpCommand } from './mcp/command.js';
export { AGENT_CLIENTS } from './mcp/agents.js';
export { policyTestCommand } from './cli/policy-test.js';
export * as approvalsCommands from './cli/approvals.js';
export * as replayCommands from './cli/replay.js';
export * as tenantCommands from './cli/tenants.js';
export { configCheckCommand, CONFIG_CHECK_HELP } from './cli/config-check.js';
export { complete, completionScript, SHELLS } from './cli/complete.js';
export * as systemCommands from './cli/system.js';
