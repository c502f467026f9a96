// The HTTP/2 load generator: the same job and result as bench/loadgen.ts's "load" mode, for the
// scenario where callers speak HTTP/2 as client-go does. Go's client multiplexes all
// `concurrency` workers over one TLS connection (as client-go does) and costs far less CPU per
// request than any JavaScript HTTP/2 client, so the servers, not it, set the pace.
//
//	go build -o h2-loadgen bench/h2-loadgen/main.go
//	./h2-loadgen '{"host":"127.0.0.1","port":8443,"path":"/x","concurrency":32,"warmupMs":300,"durationMs":2000,"tls":{...}}'
//
// Only the standard library, so it builds offline with Debian's golang-go (which
// scripts/build-kube.sh installs). An answer not spoken over HTTP/2 is an error: a server that
// falls back to HTTP/1.1 must not be reported as an HTTP/2 figure.
package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"sync"
	"syscall"
	"time"
)

type identity struct {
	CaFile     string `json:"caFile"`
	CertFile   string `json:"certFile"`
	KeyFile    string `json:"keyFile"`
	Servername string `json:"servername"`
}

type job struct {
	Host        string   `json:"host"`
	Port        int      `json:"port"`
	Path        string   `json:"path"`
	Concurrency int      `json:"concurrency"`
	WarmupMs    int      `json:"warmupMs"`
	DurationMs  int      `json:"durationMs"`
	TLS         identity `json:"tls"`
}

type result struct {
	Requests          int     `json:"requests"`
	TotalRequests     int     `json:"totalRequests"`
	Errors            int     `json:"errors"`
	CacheHits         int     `json:"cacheHits"`
	Seconds           float64 `json:"seconds"`
	RequestsPerSecond float64 `json:"requestsPerSecond"`
	MegabytesPerSec   float64 `json:"megabytesPerSecond"`
	P50               float64 `json:"p50"`
	P99               float64 `json:"p99"`
	LoadgenCPUShare   float64 `json:"loadgenCpuShare"`
}

func client(id identity) (*http.Client, error) {
	pool := x509.NewCertPool()
	ca, err := os.ReadFile(id.CaFile)
	if err != nil {
		return nil, err
	}
	if !pool.AppendCertsFromPEM(ca) {
		return nil, fmt.Errorf("no certificate in %s", id.CaFile)
	}
	pair, err := tls.LoadX509KeyPair(id.CertFile, id.KeyFile)
	if err != nil {
		return nil, err
	}
	transport := &http.Transport{
		TLSClientConfig:    &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{pair}, ServerName: id.Servername},
		ForceAttemptHTTP2:  true,
		DisableCompression: true, // as the HTTP/1.1 load generator: no Accept-Encoding
	}
	return &http.Client{Transport: transport}, nil
}

func cpuSeconds() float64 {
	var usage syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &usage)
	return time.Duration(usage.Utime.Nano() + usage.Stime.Nano()).Seconds()
}

func percentile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[int(q*float64(len(sorted)-1))]
}

func run(j job) (result, error) {
	c, err := client(j.TLS)
	if err != nil {
		return result{}, err
	}
	url := fmt.Sprintf("https://%s:%d%s", j.Host, j.Port, j.Path)
	start := time.Now()
	measureFrom := start.Add(time.Duration(j.WarmupMs) * time.Millisecond)
	measureTo := measureFrom.Add(time.Duration(j.DurationMs) * time.Millisecond)
	var mu sync.Mutex
	var latencies []float64
	var bytes int64
	var r result
	var cpuFrom float64
	cpuTimer := time.AfterFunc(time.Until(measureFrom), func() { cpuFrom = cpuSeconds() })
	var wg sync.WaitGroup
	for w := 0; w < j.Concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(measureTo) {
				began := time.Now()
				response, err := c.Get(url)
				if err != nil || response.ProtoMajor != 2 {
					mu.Lock()
					r.Errors++
					mu.Unlock()
					if err == nil {
						response.Body.Close()
					}
					return
				}
				n, _ := io.Copy(io.Discard, response.Body)
				response.Body.Close()
				done := time.Now()
				mu.Lock()
				r.TotalRequests++
				if done.After(measureFrom) && done.Before(measureTo) {
					latencies = append(latencies, float64(done.Sub(began).Microseconds())/1000)
					bytes += n
					if response.StatusCode != 200 {
						r.Errors++
					}
					if response.Header.Get("X-Lite-Apiserver-Cache") == "hit" {
						r.CacheHits++
					}
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	cpuTimer.Stop()
	window := time.Since(measureFrom).Seconds()
	sort.Float64s(latencies)
	r.Requests = len(latencies)
	r.Seconds = float64(j.DurationMs) / 1000
	r.RequestsPerSecond = float64(r.Requests) / r.Seconds
	r.MegabytesPerSec = float64(bytes) / 1e6 / r.Seconds
	r.P50 = percentile(latencies, 0.5)
	r.P99 = percentile(latencies, 0.99)
	if cpuFrom > 0 && window > 0 {
		r.LoadgenCPUShare = (cpuSeconds() - cpuFrom) / window
	}
	return r, nil
}

func main() {
	var j job
	if len(os.Args) < 2 || json.Unmarshal([]byte(os.Args[1]), &j) != nil || j.Concurrency < 1 {
		fmt.Fprintln(os.Stderr, "usage: h2-loadgen '<job JSON>'")
		os.Exit(2)
	}
	r, err := run(j)
	if err != nil {
		fmt.Fprintln(os.Stderr, "h2-loadgen:", err)
		os.Exit(1)
	}
	out, _ := json.Marshal(r)
	fmt.Println(string(out))
}
