// Command bench-plugin drives the real cq-source-s3 binary for scripts/bench-plugin.sh:
//
//	bench-plugin freeport
//	bench-plugin upload -endpoint URL -bucket B KEY=FILE...
//	bench-plugin run -bin PLUGIN -endpoint URL -bucket B -prefix P [-spec JSON] [-label L]
//
// run starts the plugin with `serve --address 127.0.0.1:PORT`, calls Init and
// Sync over gRPC like the CloudQuery CLI, drains the stream (counting rows
// from the IPC message headers), then reads the plugin's peak RSS (VmHWM in
// /proc/PID/status) and CPU time before stopping it. It prints one
// tab-separated line: label, rows, IPC bytes, seconds, rows/s, MB/s, peak RSS
// in MB, the plugin's CPU seconds during Sync, rows per CPU second.
package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	discoveryv1 "github.com/cloudquery/plugin-pb-go/pb/discovery/v1"
	pluginv3 "github.com/cloudquery/plugin-pb-go/pb/plugin/v3"
	flatbuffers "github.com/google/flatbuffers/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

func main() {
	if len(os.Args) < 2 {
		die(errors.New("usage: bench-plugin freeport|upload|run ..."))
	}
	var err error
	switch os.Args[1] {
	case "freeport":
		err = freePort()
	case "upload":
		err = upload(os.Args[2:])
	case "run":
		err = run(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		die(err)
	}
}

func die(err error) {
	fmt.Fprintln(os.Stderr, "bench-plugin:", err)
	os.Exit(1)
}

func freePort() error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer func() { _ = l.Close() }()
	fmt.Println(l.Addr().(*net.TCPAddr).Port)
	return nil
}

// upload PUTs files into the emulator (gofakes3 does not check signatures).
func upload(args []string) error {
	fs := flag.NewFlagSet("upload", flag.ExitOnError)
	endpoint := fs.String("endpoint", "", "S3 endpoint URL")
	bucket := fs.String("bucket", "warehouse", "bucket")
	_ = fs.Parse(args)
	for _, kv := range fs.Args() {
		key, file, ok := strings.Cut(kv, "=")
		if !ok {
			return fmt.Errorf("upload: %q is not KEY=FILE", kv)
		}
		data, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		req, err := http.NewRequest(http.MethodPut, *endpoint+"/"+*bucket+"/"+key, bytes.NewReader(data))
		if err != nil {
			return err
		}
		req.ContentLength = int64(len(data))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("PUT %s: %s: %s", key, resp.Status, body)
		}
	}
	return nil
}

func run(args []string) error {
	fs := flag.NewFlagSet("run", flag.ExitOnError)
	bin := fs.String("bin", "", "plugin binary")
	endpoint := fs.String("endpoint", "", "S3 endpoint URL")
	bucket := fs.String("bucket", "warehouse", "bucket")
	prefix := fs.String("prefix", "", "path_prefix")
	extra := fs.String("spec", "{}", "JSON object merged into the spec (rows_per_record, concurrency, ...)")
	label := fs.String("label", "run", "label of the output line")
	timeout := fs.Duration("timeout", 5*time.Minute, "bound on the whole run")
	shard := fs.String("shard", "", "N/M: sync only shard N of M (cloudquery sync --shard)")
	_ = fs.Parse(args)
	var shardReq *pluginv3.Sync_Request_Shard
	if *shard != "" {
		var n, m int32
		if _, err := fmt.Sscanf(*shard, "%d/%d", &n, &m); err != nil {
			return fmt.Errorf("-shard %q: want N/M", *shard)
		}
		shardReq = &pluginv3.Sync_Request_Shard{Num: n, Total: m}
	}

	spec := map[string]any{
		"bucket": *bucket, "region": "us-east-1", "endpoint": *endpoint, "path_prefix": *prefix,
		"access_key_id": "bench", "secret_access_key": "bench",
	}
	if err := json.Unmarshal([]byte(*extra), &spec); err != nil {
		return fmt.Errorf("-spec: %w", err)
	}
	specJSON, err := json.Marshal(spec)
	if err != nil {
		return err
	}

	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	port, err := pickPort()
	if err != nil {
		return err
	}
	addr := "127.0.0.1:" + port
	logs := &lockedBuffer{}
	// JSON at info: the plugin's "objects read" line (GETs, bytes fetched) is read from the log,
	// and errors are found by level.
	cmd := exec.Command(*bin, "serve", "--address", addr, "--log-level", "info", "--log-format", "json", "--no-sentry")
	cmd.Stdout, cmd.Stderr = logs, logs
	cmd.Env = append(os.Environ(), "AWS_EC2_METADATA_DISABLED=true", "CQ_TELEMETRY_LEVEL=none")
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	fail := func(err error) error {
		return fmt.Errorf("%w\nplugin output:\n%s", err, logs.String())
	}

	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(1<<30)))
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close() }()
	if err := waitReady(ctx, discoveryv1.NewDiscoveryClient(conn)); err != nil {
		return fail(err)
	}
	pc := pluginv3.NewPluginClient(conn)
	if _, err := pc.Init(ctx, &pluginv3.Init_Request{Spec: specJSON}); err != nil {
		return fail(fmt.Errorf("Init: %w", err))
	}
	cpu0, err := cpuSeconds(cmd.Process.Pid)
	if err != nil {
		return err
	}
	start := time.Now()
	stream, err := pc.Sync(ctx, &pluginv3.Sync_Request{Tables: []string{"*"}, Shard: shardReq})
	if err != nil {
		return fail(fmt.Errorf("Sync: %w", err))
	}
	var rows, nbytes int64
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fail(fmt.Errorf("sync stream: %w", err))
		}
		ins := msg.GetInsert()
		if ins == nil {
			continue
		}
		n, err := ipcRows(ins.Record)
		if err != nil {
			return fail(err)
		}
		if rows == 0 { // check the cheap count against a full decode once
			rec, err := pluginv3.NewRecordFromBytes(ins.Record)
			if err != nil {
				return fail(err)
			}
			if rec.NumRows() != n {
				return fmt.Errorf("ipcRows = %d, the decoded record has %d", n, rec.NumRows())
			}
			rec.Release()
		}
		rows += n
		nbytes += int64(len(ins.Record))
	}
	secs := time.Since(start).Seconds()
	cpu1, err := cpuSeconds(cmd.Process.Pid)
	if err != nil {
		return err
	}
	hwm, err := peakRSS(cmd.Process.Pid)
	if err != nil {
		return err
	}
	if strings.Contains(logs.String(), `"level":"error"`) || strings.Contains(logs.String(), "skipping object") {
		return fail(errors.New("the plugin logged errors or skipped objects"))
	}
	gets, fetched := fetchedFromLog(logs)
	fmt.Printf("%s\t%d\t%d\t%.3f\t%.0f\t%.1f\t%.0f\t%.3f\t%.0f\t%s\t%s\n", *label, rows, nbytes, secs,
		float64(rows)/secs, float64(nbytes)/secs/1e6, float64(hwm)/1024, cpu1-cpu0, float64(rows)/(cpu1-cpu0), gets, fetched)
	return nil
}

// fetchedFromLog returns the GET count and MB fetched of the plugin's "objects read" log line
// (written as the sync ends; waited for up to 2 s), or "-" for plugins that do not log it.
func fetchedFromLog(logs *lockedBuffer) (gets, mb string) {
	for range 20 {
		for _, line := range strings.Split(logs.String(), "\n") {
			var l struct {
				Message      string `json:"message"`
				Gets         *int64 `json:"gets"`
				BytesFetched *int64 `json:"bytes_fetched"`
			}
			if json.Unmarshal([]byte(line), &l) == nil && l.Message == "objects read" && l.Gets != nil && l.BytesFetched != nil {
				return strconv.FormatInt(*l.Gets, 10), fmt.Sprintf("%.1f", float64(*l.BytesFetched)/1e6)
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return "-", "-"
}

// lockedBuffer is a bytes.Buffer the plugin's output is copied into while the driver reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func pickPort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer func() { _ = l.Close() }()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port), nil
}

func waitReady(ctx context.Context, dc discoveryv1.DiscoveryClient) error {
	var last error
	for i := 0; i < 300; i++ {
		reqCtx, cancel := context.WithTimeout(ctx, time.Second)
		_, err := dc.GetVersions(reqCtx, &discoveryv1.GetVersions_Request{})
		cancel()
		if err == nil {
			return nil
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("plugin not ready: %w", last)
		case <-time.After(50 * time.Millisecond):
		}
	}
	return fmt.Errorf("plugin not ready: %w", last)
}

// cpuSeconds is the CPU time (user + system) pid has used, from /proc/PID/stat.
func cpuSeconds(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// Fields after the parenthesised command name; utime and stime are the 12th and 13th.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("short /proc/%d/stat", pid)
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return float64(ut+st) / clockTicks, nil
}

// clockTicks is USER_HZ, 100 on every Linux architecture Go supports.
const clockTicks = 100

// ipcRows counts the rows of an Arrow IPC stream from its messages' headers,
// without decoding schemas or copying bodies: the driver shares the CPUs with
// the plugin, so it must do as little as it can.
func ipcRows(b []byte) (int64, error) {
	var rows int64
	for len(b) >= 8 {
		if binary.LittleEndian.Uint32(b) != 0xFFFFFFFF {
			return 0, errors.New("ipc: no continuation marker")
		}
		n := int(binary.LittleEndian.Uint32(b[4:]))
		if n == 0 {
			break // end of stream
		}
		if 8+n > len(b) {
			return 0, errors.New("ipc: short message")
		}
		meta := b[8 : 8+n]
		var msg flatbuffers.Table
		msg.Bytes, msg.Pos = meta, flatbuffers.GetUOffsetT(meta)
		// Message: version (slot 0), header_type (1), header (2), bodyLength (3).
		var headerType byte
		if o := flatbuffers.UOffsetT(msg.Offset(6)); o != 0 {
			headerType = msg.GetByte(o + msg.Pos)
		}
		var body int64
		if o := flatbuffers.UOffsetT(msg.Offset(10)); o != 0 {
			body = msg.GetInt64(o + msg.Pos)
		}
		if headerType == 3 { // RecordBatch: length (slot 0)
			var rb flatbuffers.Table
			if o := flatbuffers.UOffsetT(msg.Offset(8)); o != 0 {
				msg.Union(&rb, o)
				if o := flatbuffers.UOffsetT(rb.Offset(4)); o != 0 {
					rows += rb.GetInt64(o + rb.Pos)
				}
			}
		}
		if int64(len(b)) < int64(8+n)+body {
			return 0, errors.New("ipc: short body")
		}
		b = b[int64(8+n)+body:]
	}
	return rows, nil
}

// peakRSS is VmHWM of pid in KiB.
func peakRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return 0, errors.New("no VmHWM in /proc status")
}
