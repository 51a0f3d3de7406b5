//! The short summary printed after `optimize`, and the number and word
//! formats it shares with the HTML report and the error printer (`euros`,
//! `counted`, `per_hour_unit`).
//!
//! Invariant: the text depends only on the run's results (the measured
//! solve time aside), never on the order in which anything was computed.

use crate::model::Inventory;
use crate::value::Valuation;

use super::summary::Summary;

/// How a capacity per hour reads: a unit `x_h` (x-hours) per hour is `xs`
/// (space_h per hour: spaces), any other unit `unit/h`.
pub fn per_hour_unit(unit: &str) -> String {
    match unit.strip_suffix("_h") {
        Some(thing) if !thing.is_empty() => format!("{thing}s"),
        _ => format!("{unit}/h"),
    }
}

/// `count` and its noun, singular for 1 and plural otherwise: `1 firm`,
/// `0 firms`, `2 firms` (the model's helper, which input messages use too).
pub use crate::model::table::counted;

/// Formats a money amount as whole euros with thin grouping: `-1 234 567`.
pub fn euros(amount: f64) -> String {
    let rounded = amount.round();
    let negative = rounded < 0.0;
    let digits = format!("{:.0}", rounded.abs());
    let mut grouped = String::new();
    for (position, ch) in digits.chars().enumerate() {
        if position > 0 && (digits.len() - position) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    if negative && grouped != "0" {
        format!("-{grouped}")
    } else {
        grouped
    }
}

/// The short summary printed after `optimize`.
pub fn human_summary(inventory: &Inventory, valuation: &Valuation, summary: &Summary, top: usize) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let status = match (summary.status.as_str(), &summary.optimal_over) {
        ("optimal", None) => "optimal".to_string(),
        ("optimal", Some(over)) => {
            format!("optimal over the {over}: the optimum over every candidate link may be better")
        }
        (other, _) => format!("{other} (NOT proven optimal: the best solution found is reported)"),
    };
    let _ = writeln!(
        out,
        "symbiose: {} | objective {} | {}",
        summary.inventory.as_deref().unwrap_or_default(),
        summary.objective,
        status
    );
    let _ = writeln!(
        out,
        "  {}, {}, {}, {} used, solved in {:.3} s",
        counted(summary.n_firms, "firm", "firms"),
        counted(summary.n_flows, "flow", "flows"),
        counted(
            summary.n_candidate_links.unwrap_or_default(),
            "candidate link",
            "candidate links"
        ),
        counted(summary.n_links, "link", "links"),
        summary.solve_seconds
    );
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "  {:<28} {:>17} {:>17} {:>17}",
        "EUR per year", "baseline", "optimized", "saved"
    );
    for (label, base, opt) in [
        (
            "private cost (firms)",
            summary.baseline.private_cost_eur,
            summary.optimized.private_cost_eur,
        ),
        (
            "externalities (territory)",
            summary.baseline.externality_eur,
            summary.optimized.externality_eur,
        ),
    ] {
        let _ = writeln!(
            out,
            "  {:<28} {:>17} {:>17} {:>17}",
            label,
            euros(base),
            euros(opt),
            euros(base - opt)
        );
    }
    if let Some(instruments) = &summary.instruments {
        let values: Vec<String> = instruments
            .values
            .iter()
            .map(|(path, value)| format!("{path} = {value}"))
            .collect();
        let _ = writeln!(
            out,
            "  instruments {}: public revenue {} EUR/yr (taxes {} - subsidies {}; a transfer, in the private cost, not a value created)",
            values.join(", "),
            euros(instruments.public_revenue_eur),
            euros(instruments.taxes_eur),
            euros(instruments.subsidies_eur)
        );
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "  value captured by firms      {:>18} EUR/yr (supplier share {})",
        euros(summary.firm_value_eur),
        summary.supplier_share
    );
    let _ = writeln!(
        out,
        "  value accruing to territory  {:>18} EUR/yr (global {}, local {})",
        euros(summary.territory_value_eur),
        euros(summary.territory_value_global_eur),
        euros(summary.territory_value_local_eur)
    );
    if summary.firms_needing_compensation.is_empty() {
        let _ = writeln!(out, "  firms needing compensation: none");
    } else {
        let _ = writeln!(out, "  firms needing compensation:");
        for firm in &summary.firms_needing_compensation {
            let _ = writeln!(
                out,
                "    {:<34}{:>14} EUR/yr",
                firm.firm_id,
                euros(firm.compensation_needed_eur)
            );
        }
    }
    part_b_summary(&mut out, inventory, valuation, summary);
    let mut ranked: Vec<_> = valuation.links.iter().collect();
    ranked.sort_by(|a, b| {
        b.externality_avoided_eur
            .total_cmp(&a.externality_avoided_eur)
            .then_with(|| inventory.flow(a.supply).id.cmp(&inventory.flow(b.supply).id))
            .then_with(|| inventory.flow(a.demand).id.cmp(&inventory.flow(b.demand).id))
    });
    // `--top 0` asks for no list: no header either.
    if !ranked.is_empty() && top > 0 {
        let _ = writeln!(out, "  top links by externalities avoided:");
        for link in ranked.iter().take(top) {
            let (supply, demand) = (inventory.flow(link.supply), inventory.flow(link.demand));
            let resource = inventory.resource(supply.resource);
            let _ = writeln!(
                out,
                "    {} -> {}: {} {} {}, {} EUR/yr avoided, {} EUR/yr saved",
                inventory.firm(supply.firm).id,
                inventory.firm(demand.firm).id,
                format_quantity(link.quantity),
                resource.unit,
                resource.id,
                euros(link.externality_avoided_eur),
                euros(link.surplus_eur)
            );
        }
    }
    out
}

/// The printed lines of docs/model.md Part B: investments and the MIP gap,
/// processes, and the capacity saved by sharing services across slices.
fn part_b_summary(out: &mut String, inventory: &Inventory, valuation: &Valuation, summary: &Summary) {
    use std::fmt::Write;
    if let Some(n_binaries) = summary.n_binaries {
        let built = valuation
            .investments
            .iter()
            .filter(|investment| investment.built)
            .count();
        let gap = match summary.mip_gap {
            Some(gap) if gap.is_finite() => format!("{:.4} %", 100.0 * gap),
            _ => "unknown".to_string(),
        };
        let _ = writeln!(
            out,
            "  investments (MILP, {}): {built} of {} built, relative MIP gap {gap}",
            counted(n_binaries, "binary", "binaries"),
            valuation.investments.len()
        );
    }
    if !valuation.processes.is_empty() {
        let _ = writeln!(out, "  conversion processes:");
        for value in &valuation.processes {
            let process = inventory.process(value.process);
            let capacity = process
                .capacity
                .map_or(String::new(), |capacity| format!(" of {}", format_quantity(capacity)));
            if value.built {
                let _ = writeln!(
                    out,
                    "    {} ({}): activity {}{capacity}, cost borne {} EUR/yr",
                    process.id,
                    inventory.firm(process.firm).id,
                    format_quantity(value.activity),
                    euros(value.cost_borne_eur)
                );
            } else {
                let _ = writeln!(out, "    {} ({}): not run", process.id, inventory.firm(process.firm).id);
            }
        }
    }
    if let Some(services) = &summary.services {
        let _ = writeln!(
            out,
            "  shared services across {} (capacity at the peak hour):",
            counted(inventory.slices().len(), "time slice", "time slices")
        );
        for service in services {
            let per_hour = per_hour_unit(&service.unit);
            let percent = if service.peak_without_sharing_per_hour > 0.0 {
                100.0 * service.capacity_saved_per_hour / service.peak_without_sharing_per_hour
            } else {
                0.0
            };
            let _ = writeln!(
                out,
                "    {}: {} {per_hour} needed without sharing, {} with sharing: {} {per_hour} saved ({:.0} %); value to firms {} EUR/yr, to the territory {} EUR/yr",
                service.resource,
                format_capacity(service.peak_without_sharing_per_hour),
                format_capacity(service.peak_with_sharing_per_hour),
                format_capacity(service.capacity_saved_per_hour),
                percent,
                euros(service.firm_value_eur),
                euros(service.territory_value_eur)
            );
        }
    }
}

/// A capacity per hour: whole units from 10 up, two decimals below.
fn format_capacity(value: f64) -> String {
    if value.abs() >= 10.0 {
        euros(value)
    } else if value.abs() < 0.005 {
        "0".to_string()
    } else {
        format!("{value:.2}")
    }
}

fn format_quantity(value: f64) -> String {
    if value.abs() >= 100.0 {
        euros(value)
    } else {
        format!("{value:.3}")
    }
}

#[cfg(test)]
mod tests {
    use super::euros;

    #[test]
    fn euros_are_grouped() {
        assert_eq!(euros(1234567.4), "1,234,567");
        assert_eq!(euros(-1000.0), "-1,000");
        assert_eq!(euros(999.5), "1,000");
        assert_eq!(euros(-0.2), "0");
    }
}
