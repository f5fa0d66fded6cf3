//! AdminDown, ours and the peer's, versus a failure (RFC 5880 §6.8.16,
//! RFC 5882 §3.2).

use super::exact;
use super::sim::{ms, Sim};
use crate::packet::{Diagnostic, State};
use crate::session::{DownCause, Input, Output};

fn state_outputs(outputs: impl Iterator<Item = Output>) -> Vec<Output> {
    outputs
        .filter(|o| matches!(o, Output::StateChanged { .. } | Output::LeftUp { .. }))
        .collect()
}

#[test]
fn the_peers_admin_down_is_not_a_failure() {
    let mut sim = Sim::new(exact(1), exact(2), ms(5));
    let up = sim.bring_up();
    sim.run_until(up + ms(1_000));
    let mark = [sim.nodes[0].log.len(), sim.nodes[1].log.len()];
    sim.input(1, Input::AdminDown);
    sim.run_for(ms(10_000));
    let ours = state_outputs(sim.nodes[0].log[mark[0]..].iter().map(|(_, o)| o.clone()));
    assert_eq!(
        ours,
        [
            Output::StateChanged {
                from: State::Up,
                to: State::Down,
                diagnostic: Diagnostic::NeighborSignaledSessionDown,
            },
            Output::LeftUp {
                cause: DownCause::NeighborAdminDown
            },
        ],
        "one change and no timeout later"
    );
    assert!(!DownCause::NeighborAdminDown.is_failure());
    let theirs = state_outputs(sim.nodes[1].log[mark[1]..].iter().map(|(_, o)| o.clone()));
    assert_eq!(
        theirs,
        [
            Output::StateChanged {
                from: State::Up,
                to: State::AdminDown,
                diagnostic: Diagnostic::AdministrativelyDown,
            },
            Output::LeftUp {
                cause: DownCause::LocalAdminDown
            },
        ]
    );
    assert!(!DownCause::LocalAdminDown.is_failure());
    assert_eq!(sim.nodes[0].session.stats().failures, 0);
    let view = sim.nodes[0].session.view();
    assert_eq!(view.last_down_cause, Some(DownCause::NeighborAdminDown));
    assert_eq!(view.remote_state, State::AdminDown);
    assert_eq!(view.remote_diagnostic, Diagnostic::AdministrativelyDown);
    let json = serde_json::to_value(&view).unwrap();
    assert_eq!(json["last_down_cause"], "neighbor admin down");
    assert_eq!(json["last_diagnostic"], "Neighbor Signaled Session Down");
    assert_eq!(json["state"], "Down");
    assert_eq!(json["remote_state"], "AdminDown");
}

#[test]
fn admin_down_keeps_telling_the_peer_slowly_and_ignores_it() {
    let mut sim = Sim::new(exact(1), exact(2), ms(5));
    let up = sim.bring_up();
    sim.run_until(up + ms(1_000));
    let at = sim.now;
    sim.input(1, Input::AdminDown);
    assert!(!sim.nodes[1]
        .timers
        .contains_key(&crate::session::TimerKind::Detection));
    sim.run_for(ms(10_000));
    let said: Vec<_> = sim.nodes[1]
        .sent()
        .into_iter()
        .filter(|(t, _)| *t >= at)
        .collect();
    assert!(said.len() >= 10);
    assert!(said
        .iter()
        .all(|(_, p)| p.state == State::AdminDown
            && p.diagnostic == Diagnostic::AdministrativelyDown));
    for w in said.windows(2) {
        assert_eq!(w[1].0 - w[0].0, ms(1_000));
    }
    // The peer's Down packets change nothing here.
    assert_eq!(sim.nodes[1].session.state(), State::AdminDown);
}

#[test]
fn admin_up_runs_the_handshake_again() {
    let mut sim = Sim::new(exact(1), exact(2), ms(5));
    let up = sim.bring_up();
    sim.run_until(up + ms(1_000));
    sim.input(1, Input::AdminDown);
    sim.run_for(ms(3_000));
    sim.input(1, Input::AdminUp);
    sim.run_for(ms(3_000));
    assert_eq!(sim.states(), [State::Up, State::Up]);
    // Node 0 waited in Down; it answers node 1's Down with Init, so node 1
    // goes straight to Up.
    assert_eq!(
        sim.nodes[1].states(),
        [
            State::Down,
            State::Init,
            State::Up,
            State::AdminDown,
            State::Down,
            State::Up
        ]
    );
}

#[test]
fn failure_and_admin_down_side_by_side() {
    // The same Up → Down with the same diagnostic on our side; only the
    // cause tells BGP whether to act.
    let run = |cut: bool| {
        let mut sim = Sim::new(exact(1), exact(2), ms(5));
        let up = sim.bring_up();
        sim.run_until(up + ms(1_000));
        if cut {
            sim.mute[0] = true;
        } else {
            sim.input(1, Input::AdminDown);
        }
        sim.run_for(ms(2_000));
        sim.nodes[0]
            .outputs()
            .filter_map(|o| match o {
                Output::LeftUp { cause } => Some(*cause),
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    // Node 1 stops hearing node 0, times out, says Down: a failure for 0.
    assert_eq!(run(true), [DownCause::NeighborDown]);
    assert_eq!(run(false), [DownCause::NeighborAdminDown]);
}
