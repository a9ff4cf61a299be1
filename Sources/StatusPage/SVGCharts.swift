import Desk
import Foundation

/// The status page's charts, drawn on the server as inline SVG (SVG 1.1
/// shapes only, colours as presentation attributes, so the page needs no
/// script or style to show them). Every chart covers the days of a
/// ``StatusHistory`` and has a `<title>` per mark for its exact value.
public enum SVGCharts {
    static let width = 640.0, height = 220.0
    static let left = 44.0, right = 12.0, top = 14.0, bottom = 40.0
    static let contractColour = "#1f4e8c", noContractColour = "#9aa5b1", kbColour = "#2e8b57"
    static let medianColour = "#1f4e8c", p90Colour = "#8e44ad", breachColour = "#c0392b", warnColour = "#d68910"

    /// Tickets per day, contract (bottom) and non-contract (top) stacked.
    public static func ticketsPerDay(_ days: [StatusHistory.Day]) -> String {
        let peak = days.map(\.tickets).max() ?? 0
        var svg = open("tickets", label: "Tickets per day, contract and non-contract, last \(days.count) days")
        guard peak > 0 else { return svg + empty("No tickets in these days") + close() }
        let scale = axis(maximum: Double(peak), into: &svg, format: { String(Int($0)) })
        let band = (width - left - right) / Double(max(1, days.count))
        for (index, day) in days.enumerated() {
            let x = left + Double(index) * band + band * 0.15
            let contractHeight = Double(day.contractTickets) * scale
            let otherHeight = Double(day.noContractTickets) * scale
            let base = height - bottom
            if day.contractTickets > 0 {
                svg += rect(x, base - contractHeight, band * 0.7, contractHeight, contractColour,
                            "\(day.date): \(day.contractTickets) contract")
            }
            if day.noContractTickets > 0 {
                svg += rect(x, base - contractHeight - otherHeight, band * 0.7, otherHeight, noContractColour,
                            "\(day.date): \(day.noContractTickets) without contract")
            }
        }
        svg += dayLabels(days.map(\.date))
        svg += legend([("contract", contractColour), ("no contract", noContractColour)])
        return svg + close()
    }

    /// Tickets per day beside the conversations a suggested KB article
    /// solved (no ticket was needed: deflection).
    public static func deflection(_ days: [StatusHistory.Day]) -> String {
        let peak = days.map { max($0.tickets, $0.kbAccepted) }.max() ?? 0
        var svg = open("deflection", label: "KB suggestions accepted and tickets per day, last \(days.count) days")
        guard peak > 0 else { return svg + empty("No tickets and no accepted KB suggestions in these days") + close() }
        let scale = axis(maximum: Double(peak), into: &svg, format: { String(Int($0)) })
        let band = (width - left - right) / Double(max(1, days.count))
        let base = height - bottom
        for (index, day) in days.enumerated() {
            let x = left + Double(index) * band + band * 0.1
            let ticketHeight = Double(day.tickets) * scale, kbHeight = Double(day.kbAccepted) * scale
            if day.tickets > 0 {
                svg += rect(x, base - ticketHeight, band * 0.4, ticketHeight, noContractColour,
                            "\(day.date): \(day.tickets) tickets")
            }
            if day.kbAccepted > 0 {
                svg += rect(x + band * 0.4, base - kbHeight, band * 0.4, kbHeight, kbColour,
                            "\(day.date): \(day.kbAccepted) solved by a KB article")
            }
        }
        svg += dayLabels(days.map(\.date))
        svg += legend([("tickets", noContractColour), ("KB article accepted", kbColour)])
        return svg + close()
    }

    /// One tier's first responses per day: median and p90 as the share of
    /// the SLA response time used, with the SLA (100 %) and the warning
    /// (80 %) as lines.
    public static func responses(_ tier: StatusHistory.TierResponses) -> String {
        var svg = open("responses-\(tier.tier)",
                       label: "First response, median and p90 as share of the SLA, tier \(tier.tierName)")
        guard tier.responded > 0 else { return svg + empty("No first responses in these days") + close() }
        let peak = tier.days.compactMap(\.p90).max() ?? 0
        let maximum = min(3, max(1.2, peak))
        let scale = axis(maximum: maximum, into: &svg, format: { "\(Int(($0 * 100).rounded())) %" }, step: maximum > 2 ? 0.5 : 0.25)
        let base = height - bottom
        let band = (width - left - right) / Double(max(1, tier.days.count))
        func y(_ share: Double) -> Double { base - min(maximum, share) * scale }
        for (share, colour, name) in [(1.0, breachColour, "SLA"), (0.8, warnColour, "80 %")] {
            svg += "<line x1=\"\(f(left))\" y1=\"\(f(y(share)))\" x2=\"\(f(width - right))\" y2=\"\(f(y(share)))\" "
                + "stroke=\"\(colour)\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\"><title>\(name)</title></line>"
        }
        for (keyPath, colour, name) in [(\StatusHistory.TierResponses.Day.median, medianColour, "median"),
                                        (\StatusHistory.TierResponses.Day.p90, p90Colour, "p90")] {
            var run: [String] = []
            func flush() {
                if run.count > 1 {
                    svg += "<polyline points=\"\(run.joined(separator: " "))\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\"/>"
                }
                run = []
            }
            for (index, day) in tier.days.enumerated() {
                guard let share = day[keyPath: keyPath] else { flush(); continue }
                let x = left + (Double(index) + 0.5) * band
                run.append("\(f(x)),\(f(y(share)))")
                svg += "<circle cx=\"\(f(x))\" cy=\"\(f(y(share)))\" r=\"3\" fill=\"\(colour)\" data-series=\"\(name)\">"
                    + "<title>\(day.date): \(name) \(Int((share * 100).rounded())) % of the SLA (\(day.responded) responded)</title></circle>"
            }
            flush()
        }
        svg += dayLabels(tier.days.map(\.date))
        svg += legend([("median", medianColour), ("p90", p90Colour), ("SLA", breachColour), ("80 %", warnColour)])
        return svg + close()
    }

    // MARK: - Parts

    static func open(_ name: String, label: String) -> String {
        "<svg class=\"chart\" data-chart=\"\(HTML.escape(name))\" viewBox=\"0 0 \(f(width)) \(f(height))\" "
            + "width=\"\(f(width))\" height=\"\(f(height))\" role=\"img\" aria-label=\"\(HTML.escape(label))\" "
            + "xmlns=\"http://www.w3.org/2000/svg\"><title>\(HTML.escape(label))</title>"
    }

    static func close() -> String { "</svg>" }

    static func empty(_ text: String) -> String {
        "<text class=\"empty\" x=\"\(f(width / 2))\" y=\"\(f(height / 2))\" text-anchor=\"middle\" fill=\"#666\">"
            + "\(HTML.escape(text))</text>"
    }

    /// Draws the y axis with grid lines up to a round number at or above
    /// `maximum`; returns pixels per unit.
    static func axis(maximum: Double, into svg: inout String, format: (Double) -> String, step: Double? = nil) -> Double {
        let step = step ?? niceStep(maximum)
        let top = (maximum / step).rounded(.up) * step
        let scale = (height - SVGCharts.top - bottom) / top
        var value = 0.0
        while value <= top + step / 2 {
            let y = height - bottom - value * scale
            svg += "<line x1=\"\(f(left))\" y1=\"\(f(y))\" x2=\"\(f(width - right))\" y2=\"\(f(y))\" stroke=\"#ddd\"/>"
            svg += "<text x=\"\(f(left - 4))\" y=\"\(f(y + 4))\" text-anchor=\"end\" font-size=\"11\" fill=\"#444\">"
                + "\(HTML.escape(format(value)))</text>"
            value += step
        }
        return scale
    }

    /// 1, 2 or 5 × 10ⁿ, so that about five grid lines cover `maximum`.
    static func niceStep(_ maximum: Double) -> Double {
        guard maximum > 0 else { return 1 }
        let raw = maximum / 5
        let magnitude = pow(10, (log10(raw)).rounded(.down))
        for factor in [1.0, 2.0, 5.0, 10.0] where raw <= factor * magnitude { return max(1, factor * magnitude) }
        return max(1, 10 * magnitude)
    }

    static func dayLabels(_ dates: [CalendarDate]) -> String {
        let band = (width - left - right) / Double(max(1, dates.count))
        var svg = ""
        for (index, date) in dates.enumerated() {
            let x = left + (Double(index) + 0.5) * band
            svg += "<text x=\"\(f(x))\" y=\"\(f(height - bottom + 14))\" text-anchor=\"middle\" font-size=\"11\" fill=\"#444\">"
                + String(format: "%02d.%02d.", date.day, date.month) + "</text>"
        }
        return svg
    }

    static func legend(_ entries: [(String, String)]) -> String {
        var svg = "", x = left
        for (name, colour) in entries {
            svg += "<rect x=\"\(f(x))\" y=\"\(f(height - 14))\" width=\"10\" height=\"10\" fill=\"\(colour)\"/>"
            svg += "<text x=\"\(f(x + 14))\" y=\"\(f(height - 5))\" font-size=\"11\" fill=\"#222\">\(HTML.escape(name))</text>"
            x += 24 + Double(name.count) * 6.5
        }
        return svg
    }

    static func rect(_ x: Double, _ y: Double, _ w: Double, _ h: Double, _ colour: String, _ title: String) -> String {
        "<rect x=\"\(f(x))\" y=\"\(f(y))\" width=\"\(f(w))\" height=\"\(f(h))\" fill=\"\(colour)\">"
            + "<title>\(HTML.escape(title))</title></rect>"
    }

    /// A coordinate with one decimal.
    static func f(_ value: Double) -> String { String(format: "%.1f", value) }
}
