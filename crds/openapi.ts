// Converts the zod schemas into Kubernetes structural OpenAPI v3 schemas and
// whole CustomResourceDefinition objects. Pure: crds/generate.ts does the I/O.
//
// z.toJSONSchema (input side, so defaulted fields are optional and carry
// `default`) gives JSON Schema 2020-12; this walks it and keeps what a
// structural schema may contain:
//   - drops $schema, propertyNames, `additionalProperties: false`, and the
//     ±(2^53-1) bounds zod puts on every z.int();
//   - turns `const` into a one-value enum, numeric exclusive bounds into the
//     OpenAPI 3.0 boolean form;
//   - turns anyOf[integer, string] into `x-kubernetes-int-or-string: true`
//     (range/pattern checks for such fields are CEL rules on the schema);
//   - keeps x-kubernetes-* extensions set with `.meta()` on the zod schema;
//   - refuses anything else ($ref, other unions, nodes without a type), so a
//     schema the apiserver would reject fails here first;
//   - sorts keys, so the output does not depend on declaration order.

import { z } from 'zod';
import type { KindDefinition, PrinterColumn } from './common.ts';

export type JsonSchema = { [key: string]: unknown };

const DROPPED = new Set(['$schema', '$id', 'id', 'propertyNames']);

/** Keys copied as they are (after recursion where they hold schemas). */
const KEPT = new Set([
  'type',
  'description',
  'default',
  'enum',
  'format',
  'minimum',
  'maximum',
  'multipleOf',
  'minLength',
  'maxLength',
  'pattern',
  'minItems',
  'maxItems',
  'minProperties',
  'maxProperties',
  'required',
  'nullable',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-map-type',
  'x-kubernetes-validations',
  'x-kubernetes-int-or-string',
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-embedded-resource',
]);

export class SchemaConversionError extends Error {
  override name = 'SchemaConversionError';
}

function isObject(v: unknown): v is JsonSchema {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isIntOrStringUnion(branches: unknown): boolean {
  if (!Array.isArray(branches) || branches.length !== 2) return false;
  const types = branches.map((b) => (isObject(b) ? b.type : undefined)).sort();
  return types[0] === 'integer' && types[1] === 'string';
}

function sortKeys(o: JsonSchema): JsonSchema {
  const out: JsonSchema = {};
  for (const k of Object.keys(o).sort()) out[k] = o[k];
  return out;
}

function convertNode(node: unknown, where: string): JsonSchema {
  if (!isObject(node)) throw new SchemaConversionError(`${where}: expected a schema object`);
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(node)) {
    if (DROPPED.has(key)) continue;
    switch (key) {
      case '$ref':
      case '$defs':
      case 'definitions':
        throw new SchemaConversionError(`${where}: $ref/$defs are not allowed (do not give schemas an id)`);
      case 'properties': {
        if (!isObject(value)) throw new SchemaConversionError(`${where}: properties must be an object`);
        const props: JsonSchema = {};
        for (const name of Object.keys(value).sort()) {
          props[name] = convertNode(value[name], `${where}.${name}`);
        }
        // The apiserver drops an empty `properties` when it stores a CRD, so
        // writing one would make every server-side apply (helm) see a change and
        // conflict with whoever installed the CRD before.
        if (Object.keys(props).length > 0) out.properties = props;
        break;
      }
      case 'items':
        if (Array.isArray(value)) throw new SchemaConversionError(`${where}: tuple schemas are not allowed`);
        out.items = convertNode(value, `${where}[]`);
        break;
      case 'additionalProperties':
        if (value === false) break;
        if (isObject(value) && Object.keys(value).length === 0) {
          throw new SchemaConversionError(`${where}: open objects (looseObject) are not allowed`);
        }
        out.additionalProperties = convertNode(value, `${where}{}`);
        break;
      case 'anyOf':
      case 'oneOf':
        if (!isIntOrStringUnion(value)) {
          throw new SchemaConversionError(`${where}: unions other than integer|string are not allowed`);
        }
        out['x-kubernetes-int-or-string'] = true;
        break;
      case 'allOf':
      case 'not':
        throw new SchemaConversionError(`${where}: ${key} is not allowed`);
      case 'const':
        out.enum = [value];
        break;
      case 'exclusiveMinimum':
      case 'exclusiveMaximum':
        if (typeof value === 'number') {
          out[key === 'exclusiveMinimum' ? 'minimum' : 'maximum'] = value;
          out[key] = true;
        } else {
          out[key] = value;
        }
        break;
      case 'required':
        if (Array.isArray(value) && value.length > 0) out.required = [...(value as string[])].sort();
        break;
      case 'minimum':
        if (value !== -Number.MAX_SAFE_INTEGER) out.minimum = value;
        break;
      case 'maximum':
        if (value !== Number.MAX_SAFE_INTEGER) out.maximum = value;
        break;
      case 'x-kubernetes-validations':
        out[key] = (value as JsonSchema[]).map((r) => sortKeys(r));
        break;
      default:
        if (!KEPT.has(key))
          throw new SchemaConversionError(`${where}: unsupported JSON Schema keyword "${key}"`);
        out[key] = value;
    }
  }
  if (out['x-kubernetes-int-or-string'] === true) {
    delete out.type;
  } else if (typeof out.type !== 'string' && out['x-kubernetes-preserve-unknown-fields'] !== true) {
    throw new SchemaConversionError(
      `${where}: every node needs a single type (got ${JSON.stringify(node.type)})`,
    );
  }
  return sortKeys(out);
}

/** Converts one zod schema into a structural OpenAPI v3 schema. */
export function toStructuralSchema(schema: z.ZodType, where = 'schema'): JsonSchema {
  const json = z.toJSONSchema(schema, {
    io: 'input',
    unrepresentable: 'throw',
    cycles: 'throw',
    reused: 'inline',
  }) as JsonSchema;
  return convertNode(json, where);
}

function printerColumn(c: PrinterColumn): JsonSchema {
  return sortKeys({
    name: c.name,
    type: c.type,
    jsonPath: c.jsonPath,
    ...(c.description === undefined ? {} : { description: c.description }),
    ...(c.priority === undefined ? {} : { priority: c.priority }),
    ...(c.format === undefined ? {} : { format: c.format }),
  });
}

/** The whole CustomResourceDefinition object for a kind. */
export function buildCrd(def: KindDefinition): JsonSchema {
  const spec = toStructuralSchema(def.spec, `${def.kind}.spec`);
  const status = toStructuralSchema(def.status, `${def.kind}.status`);
  const root: JsonSchema = {
    description: def.description,
    properties: {
      apiVersion: {
        description: 'The versioned schema of this representation of an object.',
        type: 'string',
      },
      kind: {
        description: 'The REST resource this object represents, in CamelCase.',
        type: 'string',
      },
      metadata: { type: 'object' },
      // An object without spec still gets the spec defaults.
      spec: def.specRequired ? spec : sortKeys({ ...spec, default: {} }),
      status,
    },
    ...(def.specRequired ? { required: ['spec'] } : {}),
    type: 'object',
  };
  const names: JsonSchema = {
    categories: [...def.categories],
    kind: def.kind,
    listKind: def.listKind,
    plural: def.plural,
    ...(def.shortNames.length > 0 ? { shortNames: [...def.shortNames] } : {}),
    singular: def.singular,
  };
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      labels: { 'app.kubernetes.io/part-of': 'portico' },
      name: def.name,
    },
    spec: {
      group: def.group,
      names,
      scope: def.scope,
      versions: [
        {
          additionalPrinterColumns: def.printerColumns.map(printerColumn),
          name: def.version,
          schema: { openAPIV3Schema: root },
          served: true,
          storage: true,
          subresources: { status: {} },
        },
      ],
    },
  };
}
