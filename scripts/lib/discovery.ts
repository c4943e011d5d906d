// CloudQuery's plugin discovery call (cloudquery.discovery.v1.Discovery/GetVersions) over gRPC,
// with the two messages hand-coded so neither the e2e nor the benchmark needs proto files: the
// request is empty and the response is `repeated int32 versions = 1`.
import * as grpc from "@grpc/grpc-js";
import * as net from "net";

/** Decodes GetVersions.Response (packed or unpacked field 1). */
export function decodeVersions(buf: Buffer): number[] {
  const out: number[] = [];
  let i = 0;
  const varint = (): number => {
    let v = 0;
    let shift = 0;
    for (;;) {
      if (i >= buf.length) throw new Error("truncated varint");
      const b = buf[i++];
      v += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return v;
      shift += 7;
    }
  };
  while (i < buf.length) {
    const key = varint();
    const field = Math.floor(key / 8);
    const wire = key & 7;
    if (field === 1 && wire === 0) out.push(varint());
    else if (field === 1 && wire === 2) {
      const end = varint() + i;
      while (i < end) out.push(varint());
    } else if (wire === 0) varint();
    else if (wire === 2) {
      const n = varint(); // read before `i` is: `i += varint()` would lose the advance
      i += n;
    } else throw new Error(`unexpected wire type ${wire}`);
  }
  return out;
}

const Discovery = grpc.makeGenericClientConstructor(
  {
    GetVersions: {
      path: "/cloudquery.discovery.v1.Discovery/GetVersions",
      requestStream: false,
      responseStream: false,
      requestSerialize: () => Buffer.alloc(0),
      requestDeserialize: () => ({}),
      responseSerialize: () => Buffer.alloc(0),
      responseDeserialize: decodeVersions,
    },
  },
  "Discovery",
);

/** One GetVersions call; rejects on any gRPC error or after `timeoutMs`. */
export function getVersions(address: string, timeoutMs = 2000): Promise<number[]> {
  const client = new Discovery(address, grpc.credentials.createInsecure());
  return new Promise<number[]>((resolve, reject) => {
    client.makeUnaryRequest(
      "/cloudquery.discovery.v1.Discovery/GetVersions",
      () => Buffer.alloc(0),
      decodeVersions,
      {},
      { deadline: Date.now() + timeoutMs },
      (err: grpc.ServiceError | null, res?: number[]) => {
        client.close();
        if (err) reject(err);
        else resolve(res ?? []);
      },
    );
  });
}

/**
 * Calls GetVersions until it answers, every `intervalMs`; returns the versions and the
 * milliseconds from `since` to the first answer. Bounded by `limitMs`; the last error is in the
 * message when it never answers.
 */
export async function firstAnswer(
  address: string,
  since: number,
  limitMs = 60_000,
  alive: () => boolean = () => true,
  intervalMs = 50,
): Promise<{ versions: number[]; ms: number }> {
  let last: unknown;
  while (Date.now() - since < limitMs) {
    if (!alive()) throw new Error(`server for ${address} exited before answering (last: ${String(last)})`);
    try {
      const versions = await getVersions(address, 1000);
      return { versions, ms: Date.now() - since };
    } catch (e) {
      last = e;
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }
  throw new Error(`no GetVersions answer from ${address} within ${limitMs} ms: ${String(last)}`);
}

/** A TCP port on 127.0.0.1 free a moment ago, for a server to be started on (plugin, container). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** The answer's time, if it is a plugin's answer (protocol 3 among its versions); refused otherwise. */
export function requireProtocol3(answer: { versions: number[]; ms: number }): number {
  if (!answer.versions.includes(3)) {
    throw new Error(
      `GetVersions answered ${JSON.stringify(answer.versions)}, no protocol 3: the start figure is refused`,
    );
  }
  return answer.ms;
}
