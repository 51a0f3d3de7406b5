//! The one optimisation model of docs/model.md A3 and Part B, built column by
//! column. Part A is the case of one slice, no process and no investment:
//! its layout is then exactly A3's (one x_l per link, one fallback per flow;
//! one balance row per flow).
//!
//! Columns, slice by slice: the x_{l,t} of every link then the fallback of
//! every flow; then the activity a_{p,t} of every process, slice by slice
//! within a process; then one binary y_l per link with a fixed cost and one
//! y_p per process with a fixed cost. Rows: the balance row of every flow,
//! slice by slice; then a_{p,t} <= capacity_t y_p for processes with a
//! fixed cost; then x_{l,t} <= min(Q_{s,t}, Q_{d,t} / r_l) y_l for links
//! with a fixed cost; then the optional criterion bound.
//!
//! The model is handed to HiGHS column by column (`highs::ColProblem`): a
//! link column has two nonzeros per slice, a fallback one. good_lp's
//! row-wise expressions, kept as [`ModelBuilder::GoodLp`] for the Part A
//! layout, measured 5 to 12 times slower to build (docs/performance.md);
//! a test checks that both write byte-identical MPS files.

use good_lp::solvers::highs::highs;
use good_lp::{variable, Expression, ProblemVariables, SolverModel};

use super::engine::Engine;
use super::{Criterion, CriterionBound, Objective, SolveError};
use crate::candidates::Link;
use crate::model::{FlowIdx, FlowKind, Inventory, ProcessIdx};

/// The flows, links and processes one model is built for: the whole
/// inventory, or a batch of its independent parts (`parts.rs`). Rows and
/// columns follow these lists, which are in inventory (link) order;
/// `position` maps a flow of the inventory to its row within its scope.
/// Since a flow belongs to one scope only, all the scopes of one solve
/// share one `position` vector.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Scope<'a> {
    /// Flows of the inventory, ascending.
    pub flows: Vec<usize>,
    /// Positions in the candidate links, ascending.
    pub links: Vec<usize>,
    /// Processes of the inventory, ascending.
    pub processes: Vec<usize>,
    /// Per flow of the inventory, its position in its scope's `flows`.
    pub position: &'a [usize],
}

impl<'a> Scope<'a> {
    /// Every flow, link and process: the monolithic model. `identity` must
    /// be `0..n_flows` (see [`identity`]).
    pub fn whole(inventory: &Inventory, links: &[Link], identity: &'a [usize]) -> Self {
        Scope {
            flows: (0..inventory.flows().len()).collect(),
            links: (0..links.len()).collect(),
            processes: (0..inventory.processes().len()).collect(),
            position: identity,
        }
    }
    /// The row of a flow of the inventory within this scope.
    pub fn row_of(&self, flow: FlowIdx) -> usize {
        self.position[flow.index()]
    }
}

/// `0..n`, the positions of the flows in the whole scope.
pub(crate) fn identity(n: usize) -> Vec<usize> {
    (0..n).collect()
}

/// Column and row positions.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Layout {
    pub n_links: usize,
    pub n_flows: usize,
    pub n_slices: usize,
    pub n_processes: usize,
    /// Positions of the links with a fixed cost, each with its binary.
    pub binary_links: Vec<usize>,
    /// Positions of the processes with a fixed cost, each with its binary.
    pub binary_processes: Vec<usize>,
}

impl Layout {
    pub fn new(inventory: &Inventory, links: &[Link], scope: &Scope) -> Self {
        Self {
            n_links: scope.links.len(),
            n_flows: scope.flows.len(),
            n_slices: inventory.slices().len(),
            n_processes: scope.processes.len(),
            binary_links: scope
                .links
                .iter()
                .enumerate()
                .filter(|(_, link)| {
                    let link = &links[**link];
                    inventory.link_fixed_cost_eur(link.supply, link.distance_km) > 0.0
                })
                .map(|(position, _)| position)
                .collect(),
            binary_processes: scope
                .processes
                .iter()
                .enumerate()
                .filter(|(_, process)| inventory.processes()[**process].fixed_cost_eur_per_year > 0.0)
                .map(|(position, _)| position)
                .collect(),
        }
    }
    /// One slice, no process, no binary: exactly the A3 program.
    pub fn is_part_a(&self) -> bool {
        self.n_slices == 1 && self.n_processes == 0 && self.n_binaries() == 0
    }
    pub fn slice_block(&self) -> usize {
        self.n_links + self.n_flows
    }
    pub fn link(&self, slice: usize, link: usize) -> usize {
        slice * self.slice_block() + link
    }
    pub fn fallback(&self, slice: usize, flow: usize) -> usize {
        slice * self.slice_block() + self.n_links + flow
    }
    /// Whether a column is a fallback (of any slice).
    pub fn is_fallback(&self, column: usize) -> bool {
        column < self.n_slices * self.slice_block() && column % self.slice_block() >= self.n_links
    }
    pub fn activity(&self, process: usize, slice: usize) -> usize {
        self.n_slices * self.slice_block() + process * self.n_slices + slice
    }
    pub fn first_binary(&self) -> usize {
        self.n_slices * self.slice_block() + self.n_processes * self.n_slices
    }
    pub fn n_binaries(&self) -> usize {
        self.binary_links.len() + self.binary_processes.len()
    }
    pub fn n_columns(&self) -> usize {
        self.first_binary() + self.n_binaries()
    }
    pub fn n_balance_rows(&self) -> usize {
        self.n_slices * self.n_flows
    }
    /// The rows the model is built with (the bound row included).
    pub fn n_rows(&self, with_bound: bool) -> usize {
        self.n_balance_rows() + self.n_binaries() * self.n_slices + usize::from(with_bound)
    }
    /// Row of the big-M constraint of binary `binary` (links first, as the
    /// binary columns) in `slice`. Process rows come first in the model.
    pub fn big_m_row(&self, binary: usize, slice: usize) -> usize {
        let block = if binary < self.binary_links.len() {
            self.binary_processes.len() + binary
        } else {
            binary - self.binary_links.len()
        };
        self.n_balance_rows() + block * self.n_slices + slice
    }
}

/// Per column: private cost, monetised externality, upper bound, binary or not.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Columns {
    pub private: Vec<f64>,
    pub externality: Vec<f64>,
    pub upper: Vec<f64>,
    pub binary: Vec<bool>,
}

impl Columns {
    pub fn new(inventory: &Inventory, links: &[Link], layout: &Layout, scope: &Scope) -> Self {
        let n = layout.n_columns();
        let mut columns = Columns {
            private: vec![0.0; n],
            externality: vec![0.0; n],
            upper: vec![f64::INFINITY; n],
            binary: vec![false; n],
        };
        for slice in 0..layout.n_slices {
            for (position, &link) in scope.links.iter().enumerate() {
                let link = &links[link];
                let column = layout.link(slice, position);
                let unit_impacts = link.unit_impacts(inventory);
                columns.private[column] = link.private_unit_cost(inventory, &unit_impacts);
                columns.externality[column] = inventory.monetise(&unit_impacts);
            }
            for (position, &flow) in scope.flows.iter().enumerate() {
                let flow = &inventory.flows()[flow];
                let column = layout.fallback(slice, position);
                columns.private[column] = flow.fallback_cost_eur;
                columns.externality[column] = inventory.monetise(&flow.fallback_impacts);
                // A process input has no fallback; a banned route takes nothing.
                let no_fallback = flow.is_process_port() && flow.kind == FlowKind::Demand;
                if no_fallback || inventory.fallback_banned(flow) {
                    columns.upper[column] = 0.0;
                }
            }
        }
        for (position, &process_position) in scope.processes.iter().enumerate() {
            let process = &inventory.processes()[process_position];
            let cost_per_activity = inventory.process_cost_per_activity(ProcessIdx::from_index(process_position));
            for slice in 0..layout.n_slices {
                let column = layout.activity(position, slice);
                columns.private[column] = cost_per_activity;
                columns.externality[column] = inventory.monetise(&process.impacts);
                if let Some(capacity) = process.capacity {
                    columns.upper[column] = capacity * hour_share(inventory, slice);
                }
            }
        }
        let first_binary = layout.first_binary();
        for (i, &position) in layout.binary_links.iter().enumerate() {
            let link = &links[scope.links[position]];
            columns.private[first_binary + i] = inventory.link_fixed_cost_eur(link.supply, link.distance_km);
        }
        for (j, &position) in layout.binary_processes.iter().enumerate() {
            let column = first_binary + layout.binary_links.len() + j;
            columns.private[column] = inventory.processes()[scope.processes[position]].fixed_cost_eur_per_year;
        }
        for column in first_binary..n {
            columns.upper[column] = 1.0;
            columns.binary[column] = true;
        }
        columns
    }

    /// The costs of each stage of `objective` (docs/model.md A3): the first
    /// criterion, and the second for a lexicographic objective.
    pub fn stage_costs(&self, objective: Objective) -> (Vec<f64>, Option<&[f64]>) {
        let first = match objective {
            Objective::Externalities => self.externality.clone(),
            Objective::Private => self.private.clone(),
            Objective::Social => self.private.iter().zip(&self.externality).map(|(c, m)| c + m).collect(),
        };
        (first, self.second_stage_costs(objective))
    }

    /// The second criterion's costs of a lexicographic objective.
    pub fn second_stage_costs(&self, objective: Objective) -> Option<&[f64]> {
        match objective {
            Objective::Externalities => Some(&self.private),
            Objective::Private => Some(&self.externality),
            Objective::Social => None,
        }
    }

    /// The coefficients of a criterion bound's row.
    pub fn criterion(&self, criterion: Criterion) -> &[f64] {
        match criterion {
            Criterion::PrivateCost => &self.private,
            Criterion::Externality => &self.externality,
        }
    }
}

/// Each flow's share of its annual quantity in each slice (docs/model.md B1),
/// flow by flow in one vector (one allocation whatever the number of flows).
/// With one slice, the slice is the year and every share is exactly 1 (a
/// profile's one share may differ from 1 by the loader's 1e-6 tolerance).
pub(crate) struct SliceShares {
    n_slices: usize,
    values: Vec<f64>,
}

impl SliceShares {
    /// The shares of `flow`, one per slice.
    pub fn of(&self, flow: usize) -> &[f64] {
        &self.values[flow * self.n_slices..(flow + 1) * self.n_slices]
    }
}

pub(crate) fn slice_shares(inventory: &Inventory) -> SliceShares {
    let n_slices = inventory.slices().len();
    let values = if n_slices == 1 {
        vec![1.0; inventory.flows().len()]
    } else {
        (0..inventory.flows().len())
            .flat_map(|flow| inventory.slice_shares(FlowIdx::from_index(flow)))
            .collect()
    };
    SliceShares { n_slices, values }
}

/// The quantity of a flow's balance row in a slice: its quantity times its
/// slice share; 0 for a process port, whose quantity the activity sets.
pub(crate) fn balance_quantity(inventory: &Inventory, flow: usize, shares: &SliceShares, slice: usize) -> f64 {
    let definition = &inventory.flows()[flow];
    if definition.is_process_port() {
        0.0
    } else {
        definition.quantity * shares.of(flow)[slice]
    }
}

/// The most a flow can carry in a slice: its quantity for a flow of
/// flows.csv; per_activity * capacity_t for a process port (infinite
/// without a capacity).
pub(crate) fn slice_quantity(inventory: &Inventory, flow: usize, shares: &SliceShares, slice: usize) -> f64 {
    let definition = &inventory.flows()[flow];
    match definition.process {
        None => definition.quantity * shares.of(flow)[slice],
        Some(port) => match inventory.process(port.process).capacity {
            Some(capacity) => port.per_activity * capacity * hour_share(inventory, slice),
            None => f64::INFINITY,
        },
    }
}

/// The most a link can carry in a slice, U_{l,t} = min(Q_{s,t}, Q_{d,t} / r_l):
/// the big-M of its binary.
pub(crate) fn link_bound(inventory: &Inventory, link: &Link, shares: &SliceShares, slice: usize) -> f64 {
    slice_quantity(inventory, link.supply.index(), shares, slice)
        .min(slice_quantity(inventory, link.demand.index(), shares, slice) / link.ratio)
}

fn hour_share(inventory: &Inventory, slice: usize) -> f64 {
    inventory.slices()[slice].hours / inventory.total_hours()
}

/// Everything a model is built from.
pub(crate) struct ModelInputs<'a> {
    pub inventory: &'a Inventory,
    pub links: &'a [Link],
    pub scope: &'a Scope<'a>,
    pub layout: &'a Layout,
    pub columns: &'a Columns,
    /// The costs the model starts with (one per column).
    pub costs: &'a [f64],
    pub shares: &'a SliceShares,
    pub bound: Option<CriterionBound>,
}

/// Hands the model to HiGHS column by column (module documentation).
pub(crate) fn build(inputs: &ModelInputs) -> Result<Engine, SolveError> {
    let ModelInputs {
        inventory,
        links,
        scope,
        layout,
        columns,
        costs,
        shares,
        bound,
    } = *inputs;
    let flows = inventory.flows();
    let n_slices = layout.n_slices;
    let mut problem = highs::ColProblem::new();
    let mut balance: Vec<highs::Row> = Vec::with_capacity(layout.n_balance_rows());
    for slice in 0..n_slices {
        for &flow in &scope.flows {
            let quantity = balance_quantity(inventory, flow, shares, slice);
            balance.push(problem.add_row(quantity..=quantity));
        }
    }
    let balance_row = |slice: usize, flow: FlowIdx| balance[slice * layout.n_flows + scope.row_of(flow)];
    // Big-M rows: (row per slice, coefficient of the binary per slice).
    let mut process_rows: Vec<Option<Vec<highs::Row>>> = vec![None; layout.n_processes];
    let mut process_capacity: Vec<Vec<f64>> = Vec::with_capacity(layout.binary_processes.len());
    for &position in &layout.binary_processes {
        let process = &inventory.processes()[scope.processes[position]];
        let capacity = process
            .capacity
            .ok_or_else(|| SolveError::Solver(format!("process {:?} has a fixed cost but no capacity", process.id)))?;
        process_rows[position] = Some((0..n_slices).map(|_| problem.add_row(..=0.0)).collect());
        process_capacity.push(
            (0..n_slices)
                .map(|slice| capacity * hour_share(inventory, slice))
                .collect(),
        );
    }
    // Indexed by link position, and only when some link has a binary.
    let n_link_rows = if layout.binary_links.is_empty() {
        0
    } else {
        layout.n_links
    };
    let mut link_rows: Vec<Option<Vec<highs::Row>>> = vec![None; n_link_rows];
    let mut link_most: Vec<Vec<f64>> = Vec::with_capacity(layout.binary_links.len());
    for &position in &layout.binary_links {
        let link = &links[scope.links[position]];
        let most: Vec<f64> = (0..n_slices)
            .map(|slice| link_bound(inventory, link, shares, slice))
            .collect();
        if most.iter().any(|most| !most.is_finite()) {
            return Err(SolveError::Solver(format!(
                "the link {} -> {} has a fixed cost but nothing bounds what it carries: give its processes a capacity",
                flows[link.supply.index()].id,
                flows[link.demand.index()].id
            )));
        }
        link_rows[position] = Some((0..n_slices).map(|_| problem.add_row(..=0.0)).collect());
        link_most.push(most);
    }
    let bound = bound.map(|bound| (problem.add_row(..=bound.max_eur), columns.criterion(bound.criterion)));

    let mut factors: Vec<(highs::Row, f64)> = Vec::new();
    let add = |problem: &mut highs::ColProblem, column: usize, factors: &mut Vec<(highs::Row, f64)>| {
        if let Some((row, coefficients)) = bound {
            if coefficients[column] != 0.0 {
                factors.push((row, coefficients[column]));
            }
        }
        if columns.binary[column] {
            problem.add_integer_column(costs[column], 0.0..=1.0, factors.as_slice());
        } else {
            problem.add_column(costs[column], 0.0..=columns.upper[column], factors.as_slice());
        }
    };
    for slice in 0..n_slices {
        for (position, &link) in scope.links.iter().enumerate() {
            let link = &links[link];
            factors.clear();
            let (supply, demand) = (balance_row(slice, link.supply), balance_row(slice, link.demand));
            // Row indices ascending within a column, as good_lp's transpose
            // gives them (the MPS files of the two builders are compared).
            if link.supply.index() < link.demand.index() {
                factors.extend([(supply, 1.0), (demand, link.ratio)]);
            } else {
                factors.extend([(demand, link.ratio), (supply, 1.0)]);
            }
            if let Some(rows) = link_rows.get(position).and_then(Option::as_ref) {
                factors.push((rows[slice], 1.0));
            }
            add(&mut problem, layout.link(slice, position), &mut factors);
        }
        for (position, &flow) in scope.flows.iter().enumerate() {
            factors.clear();
            factors.push((balance_row(slice, FlowIdx::from_index(flow)), 1.0));
            add(&mut problem, layout.fallback(slice, position), &mut factors);
        }
    }
    for (position, &process) in scope.processes.iter().enumerate() {
        let process = &inventory.processes()[process];
        for slice in 0..n_slices {
            factors.clear();
            for port in &process.ports {
                let per_activity = flows[port.index()].process.map_or(0.0, |port| port.per_activity);
                factors.push((balance_row(slice, *port), -per_activity));
            }
            if let Some(rows) = &process_rows[position] {
                factors.push((rows[slice], 1.0));
            }
            add(&mut problem, layout.activity(position, slice), &mut factors);
        }
    }
    let first_binary = layout.first_binary();
    for (i, &position) in layout.binary_links.iter().enumerate() {
        factors.clear();
        if let Some(rows) = &link_rows[position] {
            factors.extend(rows.iter().zip(&link_most[i]).map(|(row, most)| (*row, -most)));
        }
        add(&mut problem, first_binary + i, &mut factors);
    }
    for (j, &position) in layout.binary_processes.iter().enumerate() {
        factors.clear();
        if let Some(rows) = &process_rows[position] {
            factors.extend(
                rows.iter()
                    .zip(&process_capacity[j])
                    .map(|(row, capacity)| (*row, -capacity)),
            );
        }
        add(&mut problem, first_binary + layout.binary_links.len() + j, &mut factors);
    }
    Engine::from_problem(problem)
}

/// Everything [`build`] hands to HiGHS: the structure (flows, link pairs,
/// processes), the columns' costs, bounds and kinds, and every other
/// number (balance quantities, link ratios, process coefficients and
/// capacities, big-M bounds, the criterion bound). Two scopes with equal
/// signatures give the same model, so a part whose signature did not
/// change since it was solved needs no new solve (`parts.rs`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Signature {
    flows: Vec<usize>,
    pairs: Vec<(FlowIdx, FlowIdx)>,
    processes: Vec<usize>,
    columns: Columns,
    numbers: Vec<f64>,
    bound: Option<CriterionBound>,
}

impl Signature {
    /// Whether two models have the same rows and columns (the same flows,
    /// links, processes and binaries), whatever their numbers: a basis of
    /// one is a basis of the other.
    pub fn same_shape(&self, other: &Signature) -> bool {
        self.flows == other.flows
            && self.pairs == other.pairs
            && self.processes == other.processes
            && self.columns.binary == other.columns.binary
            && self.bound.is_some() == other.bound.is_some()
    }
}

/// The signature of the model [`build`] would make of `inputs` (its
/// `costs` are part of `columns`).
pub(crate) fn signature(inputs: &ModelInputs) -> Signature {
    let ModelInputs {
        inventory,
        links,
        scope,
        layout,
        columns,
        shares,
        bound,
        ..
    } = *inputs;
    let flows = inventory.flows();
    let mut numbers = Vec::with_capacity(layout.n_balance_rows() + layout.n_links);
    for slice in 0..layout.n_slices {
        numbers.extend(
            scope
                .flows
                .iter()
                .map(|&flow| balance_quantity(inventory, flow, shares, slice)),
        );
    }
    numbers.extend(scope.links.iter().map(|&link| links[link].ratio));
    for &position in &layout.binary_links {
        let link = &links[scope.links[position]];
        numbers.extend((0..layout.n_slices).map(|slice| link_bound(inventory, link, shares, slice)));
    }
    for &process in &scope.processes {
        let process = &inventory.processes()[process];
        for port in &process.ports {
            // The row the coefficient goes in, then the coefficient.
            numbers.push(port.index() as f64);
            numbers.push(flows[port.index()].process.map_or(0.0, |port| port.per_activity));
        }
        numbers.extend(
            (0..layout.n_slices).map(|slice| process.capacity.map_or(-1.0, |c| c * hour_share(inventory, slice))),
        );
    }
    Signature {
        flows: scope.flows.clone(),
        pairs: scope
            .links
            .iter()
            .map(|&link| (links[link].supply, links[link].demand))
            .collect(),
        processes: scope.processes.clone(),
        columns: columns.clone(),
        numbers,
        bound,
    }
}

/// Two ways of handing the Part A model to HiGHS, kept side by side so that
/// `cargo bench --bench scale` can compare them on the same links.
///
/// `Columns` is the one the solver uses: the matrix is naturally
/// column-wise (a link has two nonzeros, a fallback one), so the `highs`
/// crate's `ColProblem` fills HiGHS's compressed columns directly.
/// good_lp collects each row as a hash map of terms, then the `highs`
/// crate transposes the rows into columns. Both give HiGHS the same matrix,
/// bounds and costs, in the same order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelBuilder {
    /// good_lp expressions (`ProblemVariables`, `Expression`), the model
    /// underneath taken out. Part A inventories only.
    GoodLp,
    /// `highs::ColProblem`, filled column by column.
    Columns,
}

/// The Part A model written with good_lp (see [`ModelBuilder`]).
pub(crate) fn build_good_lp(inputs: &ModelInputs) -> Result<Engine, SolveError> {
    let ModelInputs {
        inventory,
        links,
        layout,
        columns: column_data,
        costs,
        bound,
        ..
    } = *inputs;
    if !layout.is_part_a() || layout.n_flows != inventory.flows().len() || layout.n_links != links.len() {
        return Err(SolveError::Solver(
            "the good_lp builder writes whole Part A models only (one slice, no process, no investment)".into(),
        ));
    }
    let flows = inventory.flows();
    let n_columns = layout.n_columns();
    let mut variables = ProblemVariables::new();
    let mut columns = variables.add_vector(variable().min(0.0), links.len());
    // A flow whose fallback route is banned may not fall back at all.
    columns.extend(
        column_data.upper[links.len()..]
            .iter()
            .map(|upper| variables.add(variable().min(0.0).max(*upper))),
    );
    let mut objective = Expression::with_capacity(n_columns);
    for (column, cost) in columns.iter().zip(costs) {
        if *cost != 0.0 {
            objective.add_mul(*cost, *column);
        }
    }
    let mut rows: Vec<Expression> = (0..flows.len())
        .map(|flow| Expression::from(columns[links.len() + flow]))
        .collect();
    for (position, link) in links.iter().enumerate() {
        rows[link.supply.index()].add_mul(1.0, columns[position]);
        rows[link.demand.index()].add_mul(link.ratio, columns[position]);
    }
    let mut problem = variables.minimise(objective).using(highs);
    for (row, flow) in rows.into_iter().zip(flows) {
        problem.add_constraint(row.eq(flow.quantity));
    }
    if let Some(bound) = bound {
        let mut row = Expression::with_capacity(n_columns);
        for (column, coefficient) in columns.iter().zip(column_data.criterion(bound.criterion)) {
            if *coefficient != 0.0 {
                row.add_mul(*coefficient, *column);
            }
        }
        problem.add_constraint(row.leq(bound.max_eur));
    }
    let model = problem
        .try_into_inner()
        .map_err(|e| SolveError::Solver(format!("building the model: {e}")))?;
    Ok(Engine::from_model(model))
}
