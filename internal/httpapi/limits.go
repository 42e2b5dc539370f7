package httpapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"golang.org/x/time/rate"

	"github.com/xinqiao/xinqiao/internal/fault"
)

// Limits are the request size and rate limits of the route classes. Rates are counted
// in Redis for every API instance together when Server.RateStore is set (a GCRA script,
// see RedisRates), and in memory by each instance (golang.org/x/time/rate token
// buckets) otherwise or while Redis does not answer; the routes with their own stricter
// limits (the student page, the public mailbox, failed logins) keep them on top.
type Limits struct {
	// JSONBytes caps a JSON (or any non-multipart) body; UploadBytes caps a
	// multipart/form-data upload (routes may cap a file lower, e.g. documents).
	JSONBytes, UploadBytes int64
	// Login: POST /api/v1/auth/login per client address. Public: the other routes
	// without an account, per client address. Writes: authenticated requests that
	// change state, per user.
	Login, Public, Writes Rate
}

// Rate is a token bucket: Burst requests at once, then one every Every. A zero Rate
// does not limit.
type Rate struct {
	Every time.Duration
	Burst int
}

// DefaultLimits are generous for people (a whole class may share one school address)
// and stop scripts: 1 MiB JSON, 21 MiB uploads; logins 30 at once then one a second
// per address; public pages 300 at once then 5 a second per address; writes 300 at
// once then 10 a second per user.
func DefaultLimits() Limits {
	return Limits{JSONBytes: maxJSONBody, UploadBytes: maxUploadBody + 1<<20,
		Login:  Rate{Every: time.Second, Burst: 30},
		Public: Rate{Every: 200 * time.Millisecond, Burst: 300},
		Writes: Rate{Every: 100 * time.Millisecond, Burst: 300}}
}

// bucketSet holds one token bucket per key (address or user), forgetting idle keys.
type bucketSet struct {
	class   string
	r       Rate
	mu      sync.Mutex
	buckets map[string]*bucket
	swept   time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

func newBucketSet(class string, r Rate) *bucketSet {
	if r.Every <= 0 || r.Burst <= 0 {
		return nil
	}
	return &bucketSet{class: class, r: r, buckets: map[string]*bucket{}}
}

// take spends one token of key; when none is left it returns how long to wait.
func (b *bucketSet) take(key string, now time.Time) (ok bool, retryAfter time.Duration) {
	if b == nil {
		return true, 0
	}
	b.mu.Lock()
	if now.Sub(b.swept) > 10*time.Minute {
		idle := time.Duration(b.r.Burst)*b.r.Every + time.Minute
		for k, v := range b.buckets {
			if now.Sub(v.seen) > idle {
				delete(b.buckets, k)
			}
		}
		b.swept = now
	}
	bk, found := b.buckets[key]
	if !found {
		bk = &bucket{lim: rate.NewLimiter(rate.Every(b.r.Every), b.r.Burst)}
		b.buckets[key] = bk
	}
	bk.seen = now
	b.mu.Unlock()
	res := bk.lim.ReserveN(now, 1)
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return false, d
	}
	return true, 0
}

// limiters are the buckets of a Server, built once by Engine.
type limiters struct {
	login, public, writes *bucketSet

	mu        sync.Mutex
	downUntil time.Time // Redis failed: count locally until then
	warned    time.Time
}

func (s *Server) limits() Limits {
	l := DefaultLimits()
	if s.Limits != nil {
		l = *s.Limits
	}
	if l.JSONBytes <= 0 {
		l.JSONBytes = maxJSONBody
	}
	if l.UploadBytes <= 0 {
		l.UploadBytes = maxUploadBody + 1<<20
	}
	return l
}

// rateLimited is the 429 answer; Retry-After is set by throttle.
func rateLimited() error {
	return fault.New(fault.RateLimited, "too many requests: wait a moment and try again")
}

// throttle spends a token of the route class of rt for this request; it runs in wrap
// before authentication (login, public) or after it (writes, keyed by the user).
func (s *Server) throttle(cl *call, set *bucketSet, key string) error {
	if set == nil {
		return nil
	}
	ok, wait := s.takeShared(cl, set, key)
	if ok {
		return nil
	}
	if s.Metrics != nil {
		s.Metrics.Denied("rate limited")
	}
	cl.Header("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
	return rateLimited()
}

// sharedRateTimeout bounds a Redis round trip of the limiter; sharedRatePause is how
// long the instance counts locally after Redis failed.
const (
	sharedRateTimeout = 250 * time.Millisecond
	sharedRatePause   = 5 * time.Second
)

// takeShared spends the token in the RateStore, shared by every instance; without one,
// or when it fails, in this process's buckets (fail open to local counting, never to
// no limit, never to a 5xx).
func (s *Server) takeShared(cl *call, set *bucketSet, key string) (bool, time.Duration) {
	now := time.Now()
	if s.RateStore == nil {
		return set.take(key, now)
	}
	l := &s.limiter
	l.mu.Lock()
	down := now.Before(l.downUntil)
	l.mu.Unlock()
	if !down {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(cl.Request.Context()), sharedRateTimeout)
		ok, wait, err := s.RateStore.Take(ctx, set.class+":"+rateKey(key), set.r)
		cancel()
		if err == nil {
			return ok, wait
		}
		l.mu.Lock()
		l.downUntil = now.Add(sharedRatePause)
		warn := now.Sub(l.warned) > time.Minute
		if warn {
			l.warned = now
		}
		l.mu.Unlock()
		if warn {
			s.Log.Warn("rate limits: the shared store does not answer; counting in this instance", "class", set.class, "err", err)
		}
	}
	return set.take(key, now)
}

// rateKey hashes a client address or user id: the shared store holds no address.
func rateKey(key string) string {
	h := sha256.Sum256([]byte("xinqiao-rate|" + key))
	return hex.EncodeToString(h[:16])
}

func isWrite(method string) bool {
	return method != http.MethodGet && method != http.MethodHead && method != http.MethodOptions
}

// bodyLimit refuses a body over the cap of its class with 413 before any handler reads
// it, and caps what a handler may read when the length is not declared.
func (s *Server) bodyLimit(max Limits) gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.Request.Body == nil || c.Request.Body == http.NoBody {
			c.Next()
			return
		}
		limit := max.JSONBytes
		if strings.HasPrefix(c.ContentType(), "multipart/") {
			limit = max.UploadBytes
		}
		if c.Request.ContentLength > limit {
			writeError(c, s.Log, fault.New(fault.TooLarge, "the body is larger than %d bytes", limit))
			return
		}
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, limit)
		c.Set(jsonLimitKey, max.JSONBytes)
		c.Next()
	}
}

const jsonLimitKey = "xinqiao.json_limit"

// hsts reports whether the request reached us over TLS: directly, or through a trusted
// proxy that says so in X-Forwarded-Proto.
func (s *Server) overTLS(c *gin.Context) bool {
	if c.Request.TLS != nil {
		return true
	}
	if !strings.EqualFold(strings.TrimSpace(strings.Split(c.GetHeader("X-Forwarded-Proto"), ",")[0]), "https") {
		return false
	}
	host := c.Request.RemoteAddr
	if ap, err := netip.ParseAddrPort(host); err == nil {
		return s.trustedProxy(ap.Addr())
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return s.trustedProxy(a)
	}
	return false
}

func (s *Server) trustedProxy(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range s.proxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func parseProxies(list []string) []netip.Prefix {
	var out []netip.Prefix
	for _, v := range list {
		v = strings.TrimSpace(v)
		if p, err := netip.ParsePrefix(v); err == nil {
			out = append(out, p.Masked())
		} else if a, err := netip.ParseAddr(v); err == nil {
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
		}
	}
	return out
}

// textOnly refuses a path or query string that is not text: a NUL byte or invalid UTF-8
// can never be a valid id, search term or cursor, and PostgreSQL refuses NUL in text, so
// without this a fuzzed URL would surface as a 500 deep in a handler.
func (s *Server) textOnly(c *gin.Context) {
	bad := !plainText(c.Request.URL.Path)
	if !bad {
		for _, vs := range c.Request.URL.Query() {
			for _, v := range vs {
				if !plainText(v) {
					bad = true
				}
			}
		}
	}
	if bad {
		writeError(c, s.Log, fault.New(fault.Malformed, "the address holds characters that are not text"))
		return
	}
	c.Next()
}

func plainText(v string) bool { return utf8.ValidString(v) && !strings.ContainsRune(v, 0) }
