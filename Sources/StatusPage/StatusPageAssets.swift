/// The status page's static files, served same-origin under `/static/` so
/// the `Content-Security-Policy` can allow `script-src 'self'` and
/// `style-src 'self'` and nothing inline.
public enum StatusPageAssets {
    public static let scriptPath = "/static/status.js"
    public static let stylePath = "/static/status.css"

    /// Refreshes `#live` from its `data-refresh` path every `data-interval`
    /// seconds: fetches the fragment and swaps it in, so the rest of the page
    /// (scroll position, the charts) stays. Counts successful swaps in
    /// `data-refreshes`; marks the section stale when a fetch fails; goes to
    /// the login form when the session is gone (401).
    public static let script = """
        (function () {
          "use strict";
          var live = document.getElementById("live");
          if (!live) { return; }
          var path = live.getAttribute("data-refresh");
          var seconds = parseInt(live.getAttribute("data-interval"), 10) || 10;
          var busy = false;
          function refresh() {
            if (busy) { return; }
            busy = true;
            fetch(path, { credentials: "same-origin", cache: "no-store", headers: { "Accept": "text/html" } })
              .then(function (response) {
                if (response.status === 401) { window.location.assign("/login"); return null; }
                if (!response.ok) { throw new Error("HTTP " + response.status); }
                return response.text();
              })
              .then(function (html) {
                if (html === null) { return; }
                live.innerHTML = html;
                live.setAttribute("data-refreshes", String((parseInt(live.getAttribute("data-refreshes"), 10) || 0) + 1));
                live.classList.remove("stale");
              })
              .catch(function () { live.classList.add("stale"); })
              .then(function () { busy = false; });
          }
          window.setInterval(refresh, seconds * 1000);
        })();

        """

    /// The page's look: readable tables, SLA colours (amber from 80 %, red at breach).
    public static let style = """
        :root { color-scheme: light; }
        body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #1d2329; background: #f5f6f8; }
        header { background: #1f2d3d; color: #fff; padding: 10px 20px; }
        header h1 { margin: 0; font-size: 20px; }
        header a { color: #cfe0ff; }
        .sub { margin: 2px 0 0; color: #9fb0c3; font-size: 12px; }
        main { padding: 12px 20px; max-width: 1280px; }
        section { background: #fff; border: 1px solid #dde1e6; border-radius: 6px; padding: 10px 14px; margin: 0 0 12px; }
        #live { background: transparent; border: 0; padding: 0; }
        #live.stale::before { content: "Could not refresh: the data below may be old."; display: block; color: #a00; font-weight: 600; }
        h2 { font-size: 16px; margin: 0 0 8px; }
        h3 { font-size: 14px; margin: 10px 0 4px; color: #444; }
        .count { background: #e3e8ee; border-radius: 10px; padding: 0 8px; font-size: 12px; }
        .stamp { margin: 0 0 6px; color: #666; font-size: 12px; }
        table { border-collapse: collapse; width: 100%; }
        th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #eceff2; vertical-align: top; }
        th { font-size: 12px; color: #555; font-weight: 600; }
        table.inline td { border: 0; padding: 0 6px; }
        .summary, .note { max-width: 420px; overflow-wrap: anywhere; }
        .prio { font-weight: 700; }
        .p1 { color: #b30000; } .p2 { color: #c25400; } .p3, .p4 { color: #1f4e8c; }
        .p5, .p6, .p7, .p8 { color: #555; }
        .sla-ok { color: #1e7b34; }
        .sla-warning { background: #fff1c2; color: #8a5a00; font-weight: 600; }
        .sla-breached, .sla-missed { background: #fbd5d2; color: #a40e00; font-weight: 700; }
        .sla-met { color: #1e7b34; } .sla-none { color: #888; }
        .nick { color: #666; } .nobody, .warn { color: #a40e00; font-weight: 600; }
        .override, .holiday { background: #e8e1ff; color: #4b2a9b; border-radius: 3px; padding: 0 5px; font-size: 12px; }
        .waiting { color: #8a5a00; }
        .empty { color: #777; font-style: italic; }
        dl.duty, dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 0; }
        dt { color: #555; } dd { margin: 0; }
        ul.handovers, ul.holidays { margin: 0; padding-left: 18px; }
        tr.failed td { background: #fdeceb; }
        ul.networks { margin: 0 0 6px; padding-left: 18px; } ul.networks .down { color: #a40e00; font-weight: 600; }
        figure { margin: 0 0 14px; } figcaption { font-weight: 600; margin-bottom: 4px; }
        #history { display: grid; grid-template-columns: repeat(auto-fit, minmax(560px, 1fr)); gap: 4px 24px; }
        #history h2 { grid-column: 1 / -1; }
        svg.chart { max-width: 100%; height: auto; background: #fff; }
        .facts { color: #444; font-size: 12px; margin: 2px 0 0; }
        pre.description { white-space: pre-wrap; overflow-wrap: anywhere; background: #f7f7f9; padding: 8px; border-radius: 4px; }
        #duty, #tickets, #pages { background: #fff; border: 1px solid #dde1e6; border-radius: 6px; padding: 10px 14px; margin-bottom: 12px; }
        form input { padding: 4px 6px; } form button { padding: 4px 12px; }

        """
}
