//! The independent parts of a territory: the connected components of the
//! graph whose nodes are the flows and whose edges are the candidate links,
//! a process's ports (docs/model.md B3) joined as one. Two flows in
//! different parts never share a balance row, a link or a process, so each
//! part is an optimisation problem of its own; a flow with no link and no
//! process is a part alone that needs no solve (it goes to its fallback).
//!
//! Invariant: parts are numbered in the order of their first flow in the
//! inventory, and each part lists its flows in inventory order, so the
//! numbering depends only on the inventory and the links, never on their
//! processing order.

use crate::model::{FlowIdx, Inventory};

use super::Link;

/// The parts of a territory (module documentation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Components {
    /// Per flow (inventory order), the number of its part.
    pub part_of_flow: Vec<usize>,
    /// Per part, its flows in inventory order.
    pub parts: Vec<Vec<FlowIdx>>,
    /// Per part, whether it holds a link or a process (a part to solve).
    pub linked: Vec<bool>,
}

impl Components {
    /// Parts that hold a link or a process: the problems to solve.
    pub fn n_linked(&self) -> usize {
        self.linked.iter().filter(|linked| **linked).count()
    }

    /// Flows in parts without a link or process (each a part alone).
    pub fn n_unlinked_flows(&self) -> usize {
        self.linked.iter().filter(|linked| !**linked).count()
    }

    /// The number of flows in the largest part (0 without flows).
    pub fn largest(&self) -> usize {
        self.parts.iter().map(Vec::len).max().unwrap_or(0)
    }
}

/// Union-find over the flows, with path halving and union by size.
struct Forest {
    parent: Vec<usize>,
    size: Vec<usize>,
}

impl Forest {
    fn new(n: usize) -> Forest {
        Forest {
            parent: (0..n).collect(),
            size: vec![1; n],
        }
    }

    fn root(&mut self, mut node: usize) -> usize {
        while self.parent[node] != node {
            self.parent[node] = self.parent[self.parent[node]];
            node = self.parent[node];
        }
        node
    }

    fn join(&mut self, a: usize, b: usize) {
        let (mut a, mut b) = (self.root(a), self.root(b));
        if a == b {
            return;
        }
        if self.size[a] < self.size[b] {
            std::mem::swap(&mut a, &mut b);
        }
        self.parent[b] = a;
        self.size[a] += self.size[b];
    }
}

/// The independent parts of `inventory` under `links` (module documentation).
pub fn components(inventory: &Inventory, links: &[Link]) -> Components {
    let n_flows = inventory.flows().len();
    let mut forest = Forest::new(n_flows);
    let mut linked_flow = vec![false; n_flows];
    for link in links {
        forest.join(link.supply.index(), link.demand.index());
        linked_flow[link.supply.index()] = true;
        linked_flow[link.demand.index()] = true;
    }
    for process in inventory.processes() {
        for port in &process.ports {
            linked_flow[port.index()] = true;
        }
        for pair in process.ports.windows(2) {
            forest.join(pair[0].index(), pair[1].index());
        }
    }
    let mut part_of_root = vec![usize::MAX; n_flows];
    let mut part_of_flow = Vec::with_capacity(n_flows);
    let mut parts: Vec<Vec<FlowIdx>> = Vec::new();
    let mut linked: Vec<bool> = Vec::new();
    for flow in 0..n_flows {
        let root = forest.root(flow);
        if part_of_root[root] == usize::MAX {
            part_of_root[root] = parts.len();
            parts.push(Vec::new());
            linked.push(false);
        }
        let part = part_of_root[root];
        part_of_flow.push(part);
        parts[part].push(FlowIdx::from_index(flow));
        linked[part] |= linked_flow[flow];
    }
    Components {
        part_of_flow,
        parts,
        linked,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::candidates::candidate_links;
    use crate::io::{load_inventory, InventorySource};

    /// The parts found by a breadth-first search over an adjacency list,
    /// written independently of the union-find: each part as its sorted
    /// flows, the parts sorted by first flow.
    fn parts_by_search(inventory: &Inventory, links: &[Link]) -> Vec<Vec<usize>> {
        let n = inventory.flows().len();
        let mut next: Vec<Vec<usize>> = vec![Vec::new(); n];
        let mut edge = |a: usize, b: usize| {
            next[a].push(b);
            next[b].push(a);
        };
        for link in links {
            edge(link.supply.index(), link.demand.index());
        }
        for process in inventory.processes() {
            for a in &process.ports {
                for b in &process.ports {
                    edge(a.index(), b.index());
                }
            }
        }
        let mut seen = vec![false; n];
        let mut parts = Vec::new();
        for start in 0..n {
            if seen[start] {
                continue;
            }
            let mut part = vec![start];
            seen[start] = true;
            let mut at = 0;
            while at < part.len() {
                for &other in &next[part[at]] {
                    if !seen[other] {
                        seen[other] = true;
                        part.push(other);
                    }
                }
                at += 1;
            }
            part.sort_unstable();
            parts.push(part);
        }
        parts
    }

    #[test]
    fn parts_match_a_breadth_first_search_on_every_bundled_territory() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
        for territory in ["dunkirk", "kalundborg", "union-roubaix", "dunkirk-seasonal"] {
            let inventory = load_inventory(&InventorySource::Folder(root.join(territory)))
                .unwrap()
                .inventory;
            let links = candidate_links(&inventory);
            let found = components(&inventory, &links);
            let expected = parts_by_search(&inventory, &links);
            let as_indices: Vec<Vec<usize>> = found
                .parts
                .iter()
                .map(|part| part.iter().map(|flow| flow.index()).collect())
                .collect();
            assert_eq!(as_indices, expected, "{territory}");
            for (part, flows) in found.parts.iter().enumerate() {
                for flow in flows {
                    assert_eq!(found.part_of_flow[flow.index()], part, "{territory}");
                }
                let has_link = flows.iter().any(|flow| {
                    links.iter().any(|l| l.supply == *flow || l.demand == *flow)
                        || inventory.flows()[flow.index()].is_process_port()
                });
                assert_eq!(found.linked[part], has_link, "{territory} part {part}");
            }
            assert_eq!(found.n_linked() + found.n_unlinked_flows(), found.parts.len());
        }
    }

    #[test]
    fn a_process_joins_its_ports_and_no_link_means_a_part_alone() {
        // dunkirk-seasonal has processes (hubs) whose ports share one part each.
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
        let inventory = load_inventory(&InventorySource::Folder(root.join("dunkirk-seasonal")))
            .unwrap()
            .inventory;
        assert!(!inventory.processes().is_empty());
        let found = components(&inventory, &[]);
        for process in inventory.processes() {
            let part = found.part_of_flow[process.ports[0].index()];
            assert!(process
                .ports
                .iter()
                .all(|port| found.part_of_flow[port.index()] == part));
            assert!(found.linked[part]);
        }
        let ports: usize = inventory.processes().iter().map(|p| p.ports.len()).sum();
        let n_processes_with_ports = inventory.processes().iter().filter(|p| !p.ports.is_empty()).count();
        assert_eq!(
            found.parts.len(),
            inventory.flows().len() - ports + n_processes_with_ports
        );
    }
}
