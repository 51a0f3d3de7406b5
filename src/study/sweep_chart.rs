//! sweep.svg: the chart of a sweep, drawn from the bytes of sweep.csv.
//!
//! Owns: [`sweep_chart`], [`MAX_SWEEP_CHART_LINES`].
//!
//! Invariant: the chart depends only on sweep.csv and the varied
//! parameters, so `sweep` and `merge` draw the same one.

use super::sweep::VariedParameter;

/// Most lines drawn per panel of sweep.svg: beyond, that many combinations
/// of the other parameters, evenly spaced in grid order, and a note saying
/// how many there are.
pub const MAX_SWEEP_CHART_LINES: usize = 8;

/// sweep.svg, drawn from the bytes of sweep.csv (so that `sweep` and
/// `merge` draw the same chart): four panels (territory value, firm value,
/// externalities M, private cost C) against the first varied parameter,
/// one line per combination of the values of the other varied parameters
/// (at most [`MAX_SWEEP_CHART_LINES`]). `None` without a varied parameter
/// or a solved scenario.
pub fn sweep_chart(parameters: &[VariedParameter], csv: &[u8]) -> Result<Option<String>, String> {
    let Some(first) = parameters.first() else {
        return Ok(None);
    };
    let table = crate::io::parse_csv("sweep.csv", csv)
        .map_err(|errors| errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))?;
    let column = |name: &str| {
        table
            .columns
            .iter()
            .position(|column| column == name)
            .ok_or_else(|| format!("sweep.csv has no column {name}"))
    };
    let parameter_columns = parameters
        .iter()
        .map(|parameter| column(&parameter.parameter))
        .collect::<Result<Vec<_>, _>>()?;
    type Total = (&'static str, &'static str);
    const TOTALS: [Total; 4] = [
        ("territory value T", "territory_value_eur"),
        ("firm value", "firm_value_eur"),
        ("externalities M", "externality_eur"),
        ("private cost C", "private_cost_eur"),
    ];
    let total_columns = TOTALS
        .iter()
        .map(|(_, name)| column(name))
        .collect::<Result<Vec<_>, _>>()?;
    let number = |cell: &Option<String>| cell.as_deref().and_then(|text| text.parse::<f64>().ok());
    // Rows grouped by the values of the other parameters, groups in order
    // of first appearance (grid order: sweep.csv is sorted by scenario).
    let mut groups: Vec<(Vec<f64>, Vec<(f64, [f64; 4])>)> = Vec::new();
    for row in &table.rows {
        let values: Option<Vec<f64>> = parameter_columns.iter().map(|c| number(&row.cells[*c])).collect();
        let Some(values) = values else {
            return Err(format!("sweep.csv:{}: a varied parameter has no number", row.line));
        };
        let key = values[1..].to_vec();
        let position = match groups.iter().position(|(other, _)| *other == key) {
            Some(position) => position,
            None => {
                groups.push((key, Vec::new()));
                groups.len() - 1
            }
        };
        let totals: Option<Vec<f64>> = total_columns.iter().map(|c| number(&row.cells[*c])).collect();
        if let Some(totals) = totals {
            groups[position]
                .1
                .push((values[0], [totals[0], totals[1], totals[2], totals[3]]));
        }
    }
    if groups.iter().all(|(_, points)| points.is_empty()) {
        return Ok(None);
    }
    let n_groups = groups.len();
    let shown: Vec<usize> = if n_groups <= MAX_SWEEP_CHART_LINES {
        (0..n_groups).collect()
    } else {
        let mut picked: Vec<usize> = (0..MAX_SWEEP_CHART_LINES)
            .map(|i| (i * (n_groups - 1) + (MAX_SWEEP_CHART_LINES - 1) / 2) / (MAX_SWEEP_CHART_LINES - 1))
            .collect();
        picked.dedup();
        picked
    };
    let names: Vec<String> = shown
        .iter()
        .map(|group| {
            if parameters.len() == 1 {
                "every scenario".to_string()
            } else {
                parameters[1..]
                    .iter()
                    .zip(&groups[*group].0)
                    .map(|(parameter, value)| format!("{} = {value}", parameter.parameter))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        })
        .collect();
    let colour = |line: usize| crate::report::chart::PALETTE[line % crate::report::chart::PALETTE.len()].to_string();
    let panels = TOTALS
        .iter()
        .enumerate()
        .map(|(total, (title, _))| crate::report::chart::Panel {
            title: title.to_string(),
            x_label: first.parameter.clone(),
            y_label: "EUR per year".to_string(),
            series: shown
                .iter()
                .enumerate()
                .map(|(line, group)| {
                    let mut points: Vec<(f64, f64)> =
                        groups[*group].1.iter().map(|(x, totals)| (*x, totals[total])).collect();
                    points.sort_by(|a, b| a.0.total_cmp(&b.0));
                    crate::report::chart::Series {
                        name: names[line].clone(),
                        colour: colour(line),
                        points,
                    }
                })
                .collect(),
            markers: Vec::new(),
        })
        .collect();
    let others: Vec<&str> = parameters[1..].iter().map(|p| p.parameter.as_str()).collect();
    let title = if others.is_empty() {
        format!("sweep of {}", first.parameter)
    } else {
        format!(
            "sweep of {}, one line per value of {}",
            first.parameter,
            others.join(" and ")
        )
    };
    let note = (shown.len() < n_groups).then(|| {
        format!(
            "{} of the {n_groups} combinations of {} drawn, evenly spaced in grid order; sweep.csv has every scenario",
            shown.len(),
            others.join(", ")
        )
    });
    let chart = crate::report::chart::Chart {
        title,
        panels,
        columns: 2,
        panel_width: 420.0,
        panel_height: 300.0,
        legend: names
            .iter()
            .enumerate()
            .map(|(line, name)| (name.clone(), colour(line)))
            .collect(),
        note,
    };
    Ok(Some(chart.render()))
}
