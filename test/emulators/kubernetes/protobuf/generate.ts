/**
 * Writes `kubernetes-proto.json.br` from Kubernetes' own protobuf definitions: the
 * `generated.proto` files of k8s.io/api (one per served built-in group-version) and of
 * k8s.io/apimachinery (meta/v1, runtime, resource, intstr) at one release tag, read with
 * protobufjs and stored as its JSON descriptor (no comments), beside what the Go types of
 * the same tag say about each field's JSON form, which a .proto cannot: which fields are
 * inlined (`json:",inline"`), which are kept in JSON when zero (pointers, and fields
 * without `omitempty`), and which messages are Go slices (`type ExtraValue []string`).
 * Nothing in it is written by hand. Run it after changing the served types
 * (resources.ts) or moving to another release:
 *
 *   node --import tsx test/emulators/kubernetes/protobuf/generate.ts <k8s.io/api checkout> <k8s.io/apimachinery checkout> v0.31.3
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants } from 'node:zlib';
import protobuf from 'protobufjs';
import { apiFolder } from '../protobuf';
import { builtInTypes } from '../resources';

/** The file the emulator reads (see ../protobuf.ts). */
export const dataFile = join(__dirname, 'kubernetes-proto.json.br');

/** How a message's fields read in JSON, from the Go types (proto field names). */
export interface GoFields {
  /** Fields whose message is written into the parent object (`json:",inline"`). */
  readonly inline?: readonly string[];
  /** Scalar fields written in JSON even when zero: Go pointers, and fields without omitempty. */
  readonly keepZero?: readonly string[];
}

/** The stored data: the descriptor, the JSON form of each message, and where they came from. */
export interface ProtoData {
  readonly source: string;
  readonly descriptor: protobuf.INamespace;
  /** By full message name (`k8s.io.api.core.v1.Volume`); messages with nothing to say are absent. */
  readonly goFields: Record<string, GoFields>;
  /** Messages that are Go slices of their one `items` field (`ExtraValue`, `Verbs`). */
  readonly lists: readonly string[];
}

// The apimachinery packages the k8s.io/api files import.
const machineryPackages = [
  'pkg/apis/meta/v1',
  'pkg/runtime',
  'pkg/runtime/schema',
  'pkg/api/resource',
  'pkg/util/intstr',
];

interface GoField {
  readonly number: number;
  readonly inline: boolean;
  readonly keepZero: boolean;
}

// The fields of every struct in a Go package, by struct name and protobuf field number,
// read from gofmt'ed source: `\tName Type \`json:"..." protobuf:"varint,1,opt,name=..."\``
// or an embedded `\tType \`json:",inline" protobuf:"bytes,1,..."\``.
function goStructs(folder: string): { structs: Map<string, GoField[]>; slices: Set<string> } {
  const structs = new Map<string, GoField[]>();
  const slices = new Set<string>();
  for (const file of readdirSync(folder).filter(
    (name) => name.endsWith('.go') && !name.endsWith('_test.go'),
  )) {
    const text = readFileSync(join(folder, file), 'utf8');
    for (const match of text.matchAll(/^type (\w+) \[\]\w+$/gm)) slices.add(match[1]!);
    for (const match of text.matchAll(/^type (\w+) struct \{\n([\s\S]*?)^\}/gm)) {
      const fields: GoField[] = [];
      for (const line of match[2]!.split('\n')) {
        const field = /^\t(?:\w+\s+)?(\S+)\s+`json:"([^"]*)"[^`]*?protobuf:"\w+,(\d+),/.exec(line);
        if (!field) continue;
        const [, goType, jsonTag] = field;
        const options = jsonTag!.split(',').slice(1);
        fields.push({
          number: Number(field[3]),
          inline: options.includes('inline'),
          keepZero: goType!.startsWith('*') || !options.includes('omitempty'),
        });
      }
      structs.set(match[1]!, fields);
    }
  }
  return { structs, slices };
}

function main(): void {
  const [api, machinery, tag] = process.argv.slice(2);
  if (!api || !machinery || !tag) {
    console.error(
      'usage: generate.ts <k8s.io/api checkout> <k8s.io/apimachinery checkout> <tag, e.g. v0.31.3>',
    );
    process.exit(2);
  }
  const apiFolders = [...new Set(builtInTypes.map((type) => apiFolder(type.group, type.version)))].filter(
    (folder) => existsSync(join(api, folder, 'generated.proto')),
  );
  const root = new protobuf.Root();
  // Imports name files by Go import path (`k8s.io/apimachinery/pkg/.../generated.proto`).
  root.resolvePath = (_origin, target) =>
    target.startsWith('k8s.io/apimachinery/')
      ? join(machinery, target.slice('k8s.io/apimachinery/'.length))
      : target.startsWith('k8s.io/api/')
        ? join(api, target.slice('k8s.io/api/'.length))
        : target;
  root.loadSync(
    [
      ...machineryPackages.map((folder) => `k8s.io/apimachinery/${folder}/generated.proto`),
      ...apiFolders.map((folder) => `k8s.io/api/${folder}/generated.proto`),
    ],
    { keepCase: true },
  );
  root.resolveAll();

  const goFields: Record<string, GoFields> = {};
  const lists: string[] = [];
  const packages = [
    ...machineryPackages.map((folder) => ({
      dir: join(machinery, folder),
      proto: `k8s.io.apimachinery.${folder.replace(/\//g, '.')}`,
    })),
    ...apiFolders.map((folder) => ({
      dir: join(api, folder),
      proto: `k8s.io.api.${folder.replace(/\//g, '.')}`,
    })),
  ];
  for (const { dir, proto } of packages) {
    const { structs, slices } = goStructs(dir);
    const namespace = root.lookup(proto) as protobuf.Namespace | null;
    for (const message of namespace?.nestedArray ?? []) {
      if (!(message instanceof protobuf.Type)) continue;
      if (slices.has(message.name)) lists.push(message.fullName.slice(1));
      const fields = structs.get(message.name);
      if (!fields) continue;
      const byNumber = new Map(fields.map((field) => [field.number, field]));
      const named = (want: (field: GoField, proto: protobuf.Field) => boolean) =>
        message.fieldsArray
          .filter((proto) => byNumber.has(proto.id) && want(byNumber.get(proto.id)!, proto))
          .map((proto) => proto.name);
      const inline = named((field) => field.inline);
      const keepZero = named(
        (field, proto) => field.keepZero && !proto.resolvedType && !proto.repeated && !proto.map,
      );
      if (inline.length + keepZero.length === 0) continue;
      goFields[message.fullName.slice(1)] = {
        ...(inline.length ? { inline } : {}),
        ...(keepZero.length ? { keepZero } : {}),
      };
    }
  }
  const data: ProtoData = {
    source: `kubernetes/api and kubernetes/apimachinery ${tag}: generated.proto and the Go types beside them (Apache-2.0, see LICENSE beside this file)`,
    descriptor: root.toJSON(),
    goFields,
    lists: lists.sort(),
  };
  const text = JSON.stringify(data);
  // Stored as the OpenAPI data beside it is (../openapi): one line of JSON, compressed.
  const packed = brotliCompressSync(text, {
    params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: text.length },
  });
  writeFileSync(dataFile, packed);
  console.log(
    `${dataFile}: ${apiFolders.length} group-versions (${apiFolders.join(', ')}), ${text.length} bytes of JSON, ${packed.length} compressed`,
  );
}

if (require.main === module) main();
