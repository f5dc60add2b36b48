package host

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sipkeep/sipkeep/abi"
)

type outcome uint8

const (
	outcomeOK outcome = iota
	outcomeFailed
	outcomeFast
	outcomeDisabled
	numOutcomes
)

var outcomeNames = [numOutcomes]string{"ok", "failed_open", "fast_path", "disabled"}

// metrics are the sipkeep_* Prometheus metrics. Hot-path series are
// resolved once into arrays, so a call never hashes label values.
type metrics struct {
	calls                        [numExports][numOutcomes]prometheus.Counter
	latency                      [numExports]prometheus.Observer
	edits                        [4]prometheus.Counter // by abi.EditOp; [0] = unknown
	actions                      [9]prometheus.Counter // by abi.ActionKind; [0] = unknown
	failures                     *prometheus.CounterVec
	refusedResults               map[string]prometheus.Counter // by edit refusal reason
	replacements                 prometheus.Counter
	swaps                        *prometheus.CounterVec
	generation                   prometheus.Gauge
	keepalives                   *prometheus.CounterVec
	kaSent, kaAnswered, kaFailed prometheus.Counter
}

func newMetrics(h *Host, reg prometheus.Registerer) *metrics {
	if reg == nil {
		reg = prometheus.NewRegistry() // private: counted, not exported
	}
	m := &metrics{}
	calls := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sipkeep_calls_total", Help: "Events handled, by plugin export and outcome (ok, failed_open, fast_path: the guest was not entered, disabled: crash budget spent).",
	}, []string{"export", "outcome"})
	lat := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "sipkeep_call_duration_seconds", Help: "Time inside the guest per call.",
		Buckets: []float64{250e-9, 500e-9, 1e-6, 2e-6, 5e-6, 10e-6, 25e-6, 50e-6, 100e-6, 1e-3, 10e-3, 100e-3},
	}, []string{"export"})
	edits := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sipkeep_edits_total", Help: "Edits the plugin made, by op.",
	}, []string{"op"})
	acts := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sipkeep_actions_total", Help: "Actions the plugin asked for, by kind.",
	}, []string{"kind"})
	m.failures = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sipkeep_failures_total", Help: "Failed plugin calls and instance starts, by cause (trap, timeout, oom, bad_output, errno, no_instance, bad_input, instantiate, canceled, bad_edit).",
	}, []string{"cause"})
	refused := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sipkeep_refused_results_total", Help: "Plugin results refused because an edit's bytes were not what its op writes (the message passed unchanged), by reason.",
	}, []string{"reason"})
	m.refusedResults = make(map[string]prometheus.Counter, len(refuseReasons))
	for _, r := range refuseReasons {
		m.refusedResults[r] = refused.WithLabelValues(r)
	}
	m.replacements = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "sipkeep_instance_replacements_total", Help: "Instances discarded after a failure and replaced.",
	})
	m.swaps = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sipkeep_swaps_total", Help: "Module swaps and reloads, by result (ok, refused).",
	}, []string{"result"})
	m.generation = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "sipkeep_generation", Help: "The module generation serving calls.",
	})
	m.keepalives = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sipkeep_keepalives_total", Help: "Keep-alives sent (STUN or ping), answered, and failed flows, from the plugin's actions.",
	}, []string{"event"})
	records := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "sipkeep_flows", Help: "Flows by state: records stored, timers pending.", ConstLabels: prometheus.Labels{"state": "records"},
	}, func() float64 { return float64(h.store.Len()) })
	timers := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "sipkeep_flows", Help: "Flows by state: records stored, timers pending.", ConstLabels: prometheus.Labels{"state": "timers"},
	}, func() float64 {
		if h.tim == nil {
			return 0
		}
		return float64(h.tim.len())
	})
	for _, c := range []prometheus.Collector{calls, lat, edits, acts, m.failures, refused, m.replacements, m.swaps, m.generation, m.keepalives, records, timers} {
		if err := reg.Register(c); err != nil {
			h.log.Warn("sipkeep host: metric not registered", "err", err)
		}
	}
	for e := export(0); e < numExports; e++ {
		for o := outcome(0); o < numOutcomes; o++ {
			m.calls[e][o] = calls.WithLabelValues(e.String(), outcomeNames[o])
		}
		m.latency[e] = lat.WithLabelValues(e.String())
	}
	for i := range m.edits {
		name := abi.EditOp(i).String()
		m.edits[i] = edits.WithLabelValues(name)
	}
	for i := range m.actions {
		m.actions[i] = acts.WithLabelValues(abi.ActionKind(i).String())
	}
	m.kaSent = m.keepalives.WithLabelValues("sent")
	m.kaAnswered = m.keepalives.WithLabelValues("answered")
	m.kaFailed = m.keepalives.WithLabelValues("failed")
	return m
}

func (m *metrics) callOutcome(e export, o outcome) { m.calls[e][o].Inc() }

func (m *metrics) failure(cause string) { m.failures.WithLabelValues(cause).Inc() }

func (m *metrics) refused(reason string) {
	m.refusedResults[reason].Inc() // reason is one of refuseReasons
}

func (m *metrics) edit(op abi.EditOp) {
	if int(op) >= len(m.edits) {
		op = 0
	}
	m.edits[op].Inc()
}

func (m *metrics) countActions(acts []abi.Action) {
	for i := range acts {
		k := acts[i].Kind
		if int(k) >= len(m.actions) {
			k = 0
		}
		m.actions[k].Inc()
		switch k {
		case abi.ActSendSTUN, abi.ActSendPing:
			m.kaSent.Inc()
		case abi.ActKeepaliveAnswered:
			m.kaAnswered.Inc()
		case abi.ActFlowFailed, abi.ActFlowDead:
			m.kaFailed.Inc()
		}
	}
}
