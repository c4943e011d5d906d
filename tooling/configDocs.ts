// The key reference table of docs/configuration.md, rendered from lib/config.ts's CONFIG_KEYS:
// `npm run docs:config` (scripts/config-docs.ts) writes it into the page, test/config.test.ts
// checks that the page carries it verbatim.
import { CONFIG_KEYS, type ConfigKey, type KeyDef } from "../lib/config";

/** The Markdown reference table of every key (docs/configuration.md carries it verbatim). */
export function configReferenceTable(): string {
  const rows = (Object.entries(CONFIG_KEYS) as [ConfigKey, KeyDef<unknown, boolean>][]).map(([key, def]) => {
    const type = def.secret === true ? `${def.type} (secret)` : def.type;
    const dflt =
      def.default === undefined ? "required" : def.default === "" ? "unset" : `\`${String(def.default)}\``;
    const stacks = def.stacks.length === 2 ? "both" : def.stacks[0];
    return `| \`${key}\` | ${type} | ${dflt} | ${def.description} | ${stacks}${def.note === undefined ? "" : ` (${def.note})`} |`;
  });
  return ["| key | type | default | description | stack |", "|---|---|---|---|---|", ...rows].join("\n");
}
