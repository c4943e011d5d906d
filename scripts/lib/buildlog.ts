// BuildKit plain-progress parsing, for assertions on what a build reused from its cache.

/**
 * Whether a Dockerfile step ran or came from the cache, from BuildKit's plain progress:
 * `#7 [build 3/6] RUN … go mod download` then `#7 CACHED`, or `#7 DONE 1.2s` when it ran.
 * `absent` when no step matches; `unfinished` when a matching step has neither line.
 */
export function stepState(
  lines: readonly string[],
  needle: RegExp,
): "cached" | "ran" | "absent" | "unfinished" {
  const ids = [
    ...new Set(
      lines
        .map((l) => /^#(\d+) \[[^\]]*\] (.*)$/.exec(l))
        .filter((m): m is RegExpExecArray => m !== null && needle.test(m[2]))
        .map((m) => m[1]),
    ),
  ];
  if (ids.length === 0) return "absent";
  const cached = ids.filter((id) => lines.includes(`#${id} CACHED`));
  if (cached.length === ids.length) return "cached";
  const ran = ids.filter((id) => lines.some((l) => l.startsWith(`#${id} DONE`)));
  return ran.length > 0 && cached.length + ran.length === ids.length ? "ran" : "unfinished";
}
