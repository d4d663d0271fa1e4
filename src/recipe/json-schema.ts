import { isRequired } from './params.js';
import type { ParamSpec } from './schema.js';

/**
 * A recipe's parameters as the JSON Schema of one tool's input. The MCP tool list and
 * `outloop recipes list --json` both use this, so what an agent sees is the same whichever way it asks.
 * It describes what validateParams() enforces; validateParams() stays the one place that decides.
 */
export interface JsonSchemaProperty {
  type: 'string' | 'integer' | 'number' | 'boolean';
  description?: string;
  enum?: (string | number)[];
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  default?: string | number | boolean;
}

export interface InputSchema {
  type: 'object';
  properties: Record<string, JsonSchemaProperty>;
  required: string[];
  additionalProperties: false;
}

export function paramsJsonSchema(params: Record<string, ParamSpec>): InputSchema {
  const properties: Record<string, JsonSchemaProperty> = {};
  const required: string[] = [];
  for (const [name, spec] of Object.entries(params)) {
    properties[name] = paramJsonSchema(spec);
    if (isRequired(spec)) required.push(name);
  }
  return { type: 'object', properties, required, additionalProperties: false };
}

function paramJsonSchema(spec: ParamSpec): JsonSchemaProperty {
  const p: JsonSchemaProperty = { type: jsonType(spec) };
  if (spec.description !== undefined) p.description = spec.description;
  // Only the rules checkValue() applies to this type: a schema must not promise what is not enforced.
  if (p.type === 'string') {
    if (spec.enum) p.enum = spec.enum.map(String);
    // outloop matches the whole value (params.ts anchored()); JSON Schema patterns are unanchored.
    if (spec.pattern !== undefined) p.pattern = `^(?:${spec.pattern})$`;
    if (spec.minLength !== undefined) p.minLength = spec.minLength;
    if (spec.maxLength !== undefined) p.maxLength = spec.maxLength;
  }
  if (p.type === 'integer' || p.type === 'number') {
    if (spec.min !== undefined) p.minimum = spec.min;
    if (spec.max !== undefined) p.maximum = spec.max;
  }
  if (spec.default !== undefined) p.default = typedDefault(p.type, spec.default);
  return p;
}

function jsonType(spec: ParamSpec): JsonSchemaProperty['type'] {
  // An enum parameter is text compared as text (checkValue maps every allowed value to a string).
  return spec.type === 'enum' ? 'string' : spec.type;
}

function typedDefault(type: JsonSchemaProperty['type'], d: string | number | boolean): string | number | boolean {
  if (type === 'string') return String(d);
  if ((type === 'integer' || type === 'number') && typeof d === 'string' && d.trim() !== '' && Number.isFinite(Number(d))) return Number(d);
  if (type === 'boolean' && (d === 'true' || d === 'false')) return d === 'true';
  return d;
}

/**
 * The tool name of SERVICE.RECIPE: `SERVICE_RECIPE`, characters outside [A-Za-z0-9_-] replaced with `_`,
 * at most 64 characters (what MCP clients accept).
 */
export function toolName(service: string, recipe: string): string {
  return `${service}_${recipe}`.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64);
}
