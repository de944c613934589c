package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/wardsec/ward/api"
	"github.com/wardsec/ward/client"
)

func init() {
	register(&command{
		name:     "status",
		synopsis: "Show whether the server is initialized and sealed",
		usage: `Usage: ward status [flags]

  Prints the server's seal status. Needs no token. The exit code tells the
  state to scripts: 0 unsealed, 2 sealed (or not initialized), 1 the server
  could not be reached.

Example:
  $ ward status
  $ ward status -format=json`,
		run: runStatus,
	})
}

func runStatus(c *cmd, args []string) int {
	if !c.parse(args, 0, 0) {
		return c.code
	}
	cl, err := c.client()
	if err != nil {
		return c.fail(err)
	}
	st, err := cl.Sys().SealStatus(context.Background())
	if err != nil {
		return c.fail(err)
	}
	if code := c.printSealStatus(cl, st); code != exitOK {
		return code
	}
	if st.Sealed {
		return exitUsage
	}
	return exitOK
}

// statusOutput is the JSON form of `ward status`: the seal status plus the
// HA fields of sys/leader.
type statusOutput struct {
	*api.SealStatus
	HAEnabled     bool   `json:"ha_enabled"`
	IsSelf        bool   `json:"is_self,omitempty"`
	ActiveTime    string `json:"active_time,omitempty"`
	LeaderAddress string `json:"leader_address,omitempty"`
}

// printSealStatus prints st with the HA state from sys/leader, which a
// sealed HA server refuses; that refusal is expected and not an error.
func (c *cmd) printSealStatus(cl *client.Client, st *api.SealStatus) int {
	out := statusOutput{SealStatus: st}
	leader, err := cl.Sys().Leader(context.Background())
	var re *client.ResponseError
	switch {
	case err == nil:
		out.HAEnabled = leader.HAEnabled
		out.IsSelf = leader.IsSelf
		out.ActiveTime = leader.ActiveTime
		out.LeaderAddress = leader.LeaderAddress
	case errors.As(err, &re) && re.Sealed():
	default:
		fmt.Fprintf(c.stderr, "warning: could not read the HA status: %v\n", err)
	}
	if c.format == "json" {
		return c.printJSON(out)
	}
	rows := [][2]string{{"Seal Type", st.Type}}
	shares := "Total Shares"
	if st.RecoverySeal {
		rows = append(rows, [2]string{"Recovery Seal Type", st.RecoverySealType})
		shares = "Total Recovery Shares"
	}
	rows = append(rows,
		[2]string{"Initialized", fmt.Sprint(st.Initialized)},
		[2]string{"Sealed", fmt.Sprint(st.Sealed)},
		[2]string{shares, fmt.Sprint(st.N)},
		[2]string{"Threshold", fmt.Sprint(st.T)},
	)
	if st.Migration {
		rows = append(rows, [2]string{"Seal Migration in Progress", "true"})
	}
	if st.Sealed && (!st.RecoverySeal || st.Migration) {
		rows = append(rows, [2]string{"Unseal Progress", fmt.Sprintf("%d/%d", st.Progress, st.T)})
		if st.Nonce != "" {
			rows = append(rows, [2]string{"Unseal Nonce", st.Nonce})
		}
	}
	rows = append(rows, [2]string{"Version", st.Version})
	if st.BuildDate != "" {
		rows = append(rows, [2]string{"Build Date", st.BuildDate})
	}
	if st.StorageType != "" {
		rows = append(rows, [2]string{"Storage Type", st.StorageType})
	}
	if st.ClusterName != "" {
		rows = append(rows, [2]string{"Cluster Name", st.ClusterName})
	}
	if st.ClusterID != "" {
		rows = append(rows, [2]string{"Cluster ID", st.ClusterID})
	}
	rows = append(rows, [2]string{"HA Enabled", fmt.Sprint(out.HAEnabled)})
	if out.HAEnabled && leader != nil {
		mode := "standby"
		if leader.IsSelf {
			mode = "active"
		}
		rows = append(rows, [2]string{"HA Mode", mode})
		if leader.LeaderAddress != "" {
			rows = append(rows, [2]string{"Active Node Address", leader.LeaderAddress})
		}
		if leader.IsSelf && leader.ActiveTime != "" {
			rows = append(rows, [2]string{"Active Since", leader.ActiveTime})
		}
	}
	kvTable(c.stdout, rows)
	return exitOK
}
