package procs

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/sseload/sseload/loadgen"
)

// Serve is the child side of the worker protocol (`sseload worker`): it
// says hello on out, reads the start message from in, runs a loadgen.Engine
// with the configuration it carries, and sends each interval, each warning
// and finally the result on out. A fault message marks a fault on the
// engine; a stop message, the end of in, or ctx's end stops the engine,
// which then sends its partial result (Interrupted set).
//
// An error that stops the child before it has a result (a bad start
// message, a target that cannot be resolved) is also sent as an error
// message, so the parent can say what went wrong in the child's words.
func Serve(ctx context.Context, in io.Reader, out io.Writer) error {
	return serve(ctx, newReader(in), newWriter(out))
}

// serve is Serve on a reader and writer of the caller's: a remote worker
// reads its coordinator with a smaller line limit, after the auth message
// (remote.go).
func serve(ctx context.Context, r *reader, w *writer) error {
	if err := w.send(Message{Type: TypeHello, Version: Version, PID: os.Getpid(), Capacity: LocalCapacity()}); err != nil {
		return err
	}
	fail := func(err error) error {
		_ = w.send(Message{Type: TypeError, Message: err.Error()})
		return err
	}

	start, err := r.next()
	if err != nil {
		if err == io.EOF {
			return errors.New("worker: input ended before the start message")
		}
		return fail(fmt.Errorf("worker: %w", err))
	}
	if start.Type != TypeStart {
		return fail(fmt.Errorf("worker: first message is %q, want %q", start.Type, TypeStart))
	}
	if err := checkVersion(start.Version, "the parent"); err != nil {
		return fail(fmt.Errorf("worker: %w", err))
	}
	if start.Config == nil {
		return fail(errors.New("worker: start message without a config"))
	}

	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	cfg := *start.Config
	cfg.TLSConfig = &tls.Config{InsecureSkipVerify: start.InsecureTLS}
	if len(start.RootCAs) > 0 {
		cfg.TLSConfig.RootCAs = x509.NewCertPool()
		if !cfg.TLSConfig.RootCAs.AppendCertsFromPEM(start.RootCAs) {
			return fail(errors.New("worker: start message: no PEM certificate in root_cas"))
		}
	}
	iv := &intervalSender{w: w, stop: stop}
	cfg.OnInterval = iv.Add
	cfg.Warn = func(msg string) {
		if err := w.send(Message{Type: TypeWarn, Message: msg}); err != nil {
			stop() // the parent is gone: nobody reads what is measured
		}
	}
	eng, err := loadgen.New(runCtx, cfg)
	if err != nil {
		return fail(fmt.Errorf("worker %d: %w", start.Index, err))
	}
	iv.eng = eng

	// The clock offset to the time source, before the start and then
	// during the run (clock.go).
	var clock *clockTracker
	clockDone := make(chan struct{})
	if start.TimeURL != "" {
		clock = newClockTracker(start.TimeURL, !start.NoClockCorrection)
		clock.set = eng.SetClockOffset
		clock.measure(runCtx)
		go func() {
			defer close(clockDone)
			clock.run(runCtx)
		}()
	} else {
		close(clockDone)
	}

	// Control messages, until stop or the end of input.
	ctlErr := make(chan error, 1)
	go func() {
		defer stop()
		for {
			m, err := r.next()
			if err != nil {
				if err != io.EOF {
					ctlErr <- err
				}
				return
			}
			switch m.Type {
			case TypeFault:
				eng.MarkFault(m.Name)
			case TypeStop:
				return
			default:
				ctlErr <- fmt.Errorf("unexpected %q message from the parent", m.Type)
				return
			}
		}
	}()

	if start.StartAt != nil {
		t := time.NewTimer(time.Until(*start.StartAt))
		select {
		case <-t.C:
		case <-runCtx.Done():
		}
		t.Stop()
	}
	res, err := eng.Run(runCtx)
	stop()
	<-clockDone
	if err != nil {
		return fail(fmt.Errorf("worker %d: %w", start.Index, err))
	}
	if err := iv.failed(); err != nil {
		return fail(fmt.Errorf("worker %d: %w", start.Index, err))
	}
	wr, err := EncodeResult(res)
	if err != nil {
		return fail(fmt.Errorf("worker %d: %w", start.Index, err))
	}
	m := Message{Type: TypeResult, Result: wr}
	if clock != nil {
		m.Clock = clock.wire()
	}
	if err := w.send(m); err != nil {
		return err
	}
	select {
	case err := <-ctlErr:
		return fmt.Errorf("worker %d: %w", start.Index, err)
	default:
	}
	return nil
}

// intervalSender sends each of the engine's interval reports to the
// parent as one interval message, numbered from 0.
type intervalSender struct {
	w    *writer
	eng  *loadgen.Engine
	stop context.CancelFunc // stops the engine when the parent is gone

	mu  sync.Mutex
	seq int
	err error
}

// Add encodes r (the engine reuses its histograms after this call) and
// sends it.
func (b *intervalSender) Add(r loadgen.IntervalReport) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err != nil {
		return
	}
	wi, err := encodeInterval(b.seq, r)
	if err != nil {
		b.err = err // said after the run (failed)
		return
	}
	wi.Snapshot = b.eng.Snapshot()
	if err := b.w.send(Message{Type: TypeInterval, Interval: wi}); err != nil {
		b.err = err
		b.stop()
	}
	b.seq++
}

func (b *intervalSender) failed() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.err
}
