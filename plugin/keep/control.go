package keep

import (
	"github.com/sipkeep/sipkeep/abi"
	"github.com/sipkeep/sipkeep/abi/proto"
)

// Name and Version describe this plugin build.
const (
	Name    = "sipkeep"
	Version = "0.1.0"
)

// Features is what this plugin implements (abi.Feature bits).
const Features = abi.FeatureReceiver | abi.FeatureSender | abi.FeatureSTUN | abi.FeatureCRLF |
	abi.FeatureDeadFlow | abi.FeatureStripBelowTop | abi.FeatureControlPlane | abi.FeatureQuietRefresh |
	abi.FeatureStandingGrant

// PolicyFromProto converts the control-plane message into a Policy.
func PolicyFromProto(m *proto.Policy) Policy {
	if m == nil {
		return Policy{}
	}
	return Policy{
		ReceiverDisabled:           m.ReceiverDisabled,
		ReceiverKeepSeconds:        m.ReceiverKeepSeconds,
		ReceiverMethods:            m.ReceiverMethods,
		SenderDisabled:             m.SenderDisabled,
		SenderMethods:              m.SenderMethods,
		FloorSeconds:               m.FloorSeconds,
		CeilingSeconds:             m.CeilingSeconds,
		DeadFlowMultiple:           m.DeadFlowMultiple,
		DeadFlowDisabled:           m.DeadFlowDisabled,
		PongTimeoutMs:              m.PongTimeoutMs,
		STUNRTOMs:                  m.StunRtoMs,
		STUNMaxRequests:            m.StunMaxRequests,
		STUNFinalMultiplier:        m.StunFinalMultiplier,
		KeepLowerValues:            m.KeepLowerValues,
		DialogMaxSeconds:           m.DialogMaxSeconds,
		DefaultRegistrationSeconds: m.DefaultRegistrationSeconds,
	}
}

// ToProto converts p into the control-plane message.
func (p Policy) ToProto() *proto.Policy {
	return &proto.Policy{
		ReceiverDisabled:           p.ReceiverDisabled,
		ReceiverKeepSeconds:        p.ReceiverKeepSeconds,
		ReceiverMethods:            p.ReceiverMethods,
		SenderDisabled:             p.SenderDisabled,
		SenderMethods:              p.SenderMethods,
		FloorSeconds:               p.FloorSeconds,
		CeilingSeconds:             p.CeilingSeconds,
		DeadFlowMultiple:           p.DeadFlowMultiple,
		DeadFlowDisabled:           p.DeadFlowDisabled,
		PongTimeoutMs:              p.PongTimeoutMs,
		StunRtoMs:                  p.STUNRTOMs,
		StunMaxRequests:            p.STUNMaxRequests,
		StunFinalMultiplier:        p.STUNFinalMultiplier,
		KeepLowerValues:            p.KeepLowerValues,
		DialogMaxSeconds:           p.DialogMaxSeconds,
		DefaultRegistrationSeconds: p.DefaultRegistrationSeconds,
	}
}

// ConfigureFromProto applies a Configure request: on a refused policy the
// reply carries the reason and the policy in force stays.
func ConfigureFromProto(p *Plugin, req *proto.ConfigureRequest) *proto.ConfigureReply {
	rep := &proto.ConfigureReply{}
	if err := p.Configure(PolicyFromProto(req.GetPolicy())); err != nil {
		rep.Error = err.Error()
	}
	rep.Effective = p.Policy().ToProto()
	return rep
}

// Describe says what this build is.
func Describe() *proto.DescribeReply {
	return &proto.DescribeReply{
		Name:               Name,
		Version:            Version,
		AbiVersion:         abi.Version,
		Features:           uint64(Features),
		RecordVersion:      RecordVersion,
		RecordVersionsRead: []uint32{1, 2},
	}
}

// StatsProto reports the instance's counters.
func (p *Plugin) StatsProto() *proto.StatsReply {
	return &proto.StatsReply{
		Calls:      p.stats.calls,
		Edits:      p.stats.edits,
		Actions:    p.stats.actions,
		Malformed:  p.stats.malformed,
		BadRecords: p.stats.badRecords,
	}
}

// RecordVersion is the version byte of the flow records this build writes.
const RecordVersion = 2
