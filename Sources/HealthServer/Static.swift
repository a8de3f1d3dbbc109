import Logging
import HealthCore
/// The stylesheet and the one script (upload progress), served from `/static/` so that the content security
/// policy needs no inline code. The font stack names CJK fonts of Windows, macOS and Linux.
enum Static {
    static let css = """
    :root{--ink:#1f2933;--muted:#52606d;--line:#d9e2ec;--accent:#0b6e4f;--warn:#b44d12;--bad:#a61b1b}
    *{box-sizing:border-box}
    body{margin:0;color:var(--ink);font:15px/1.6 system-ui,-apple-system,"PingFang SC","Hiragino Sans GB","Microsoft YaHei","Noto Sans CJK SC","Source Han Sans SC","WenQuanYi Micro Hei",sans-serif;background:#f5f7fa}
    header{background:var(--accent);color:#fff;padding:10px 24px;display:flex;gap:24px;align-items:center;flex-wrap:wrap}
    header a{color:#fff;text-decoration:none}
    header .brand{font-weight:700;font-size:17px}
    header nav{display:flex;gap:16px;flex:1;flex-wrap:wrap}
    header form{margin:0}
    header button{background:transparent;border:1px solid #fff;color:#fff;padding:2px 10px;border-radius:4px;cursor:pointer}
    main{max-width:1180px;margin:24px auto;padding:0 24px}
    h1{font-size:22px;margin:0 0 16px}
    h2{font-size:18px;margin:24px 0 8px}
    .card{background:#fff;border:1px solid var(--line);border-radius:6px;padding:16px 20px;margin-bottom:16px}
    table{border-collapse:collapse;width:100%;background:#fff}
    th,td{border:1px solid var(--line);padding:5px 8px;text-align:left;vertical-align:top}
    th{background:#eef2f6;font-weight:600}
    td.num{text-align:right;font-variant-numeric:tabular-nums}
    label{display:block;margin:10px 0 4px;font-weight:600}
    input[type=text],input[type=password],input[type=number],input[type=date],select,textarea{width:100%;max-width:420px;padding:6px 8px;border:1px solid #9aa5b1;border-radius:4px;font:inherit}
    textarea{max-width:640px;min-height:80px}
    button.primary{background:var(--accent);color:#fff;border:0;border-radius:4px;padding:8px 18px;font:inherit;cursor:pointer;margin-top:12px}
    a.button{display:inline-block;border:1px solid var(--accent);color:var(--accent);border-radius:4px;padding:7px 16px;margin:8px 8px 0 0;text-decoration:none}
    a.button.primary{background:var(--accent);color:#fff}
    .muted{color:var(--muted)}
    .error{color:var(--bad);font-weight:600}
    .ok{color:var(--accent);font-weight:600}
    .hint{color:var(--muted);font-size:13px}
    .tier-red{color:#fff;background:var(--bad);padding:1px 6px;border-radius:3px}
    .tier-orange{color:#fff;background:var(--warn);padding:1px 6px;border-radius:3px}
    .tier-yellow{background:#f0c419;padding:1px 6px;border-radius:3px}
    .met{color:var(--accent);font-weight:600}.notmet{color:var(--bad);font-weight:600}
    td.warn{color:var(--warn);font-weight:600}
    .nowrap{white-space:nowrap}
    form.inline input.short{max-width:9em}
    form.result-form{flex-wrap:wrap}
    form.inline{display:inline-flex;gap:6px;align-items:center;margin:0 0 8px}
    form.inline input,form.inline select{width:auto}
    details.unscreened{margin:8px 0}
    .filters{display:flex;gap:16px;flex-wrap:wrap;align-items:flex-end}
    .filters label{margin:0 0 4px}
    .filters select,.filters input{width:auto}
    progress{width:420px;height:16px}
    .hidden{display:none}
    .charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(370px,1fr));gap:12px}
    .charts .card{margin:0;padding:10px 12px}.charts h3{margin:0 0 6px;font-size:15px}
    .lang{color:#fff}
    dl.summary{display:grid;grid-template-columns:max-content auto;gap:4px 16px;margin:0}
    dl.summary dt{color:var(--muted)}dl.summary dd{margin:0;font-weight:600}
    """

    /// Shows upload progress: the form is sent with XMLHttpRequest (its upload.onprogress), then the browser
    /// goes to the result page the server redirected to. Without script the form posts normally.
    static let js = """
    document.addEventListener('DOMContentLoaded', function () {
      var form = document.getElementById('upload-form');
      if (!form || !window.XMLHttpRequest || !window.FormData) return;
      form.addEventListener('submit', function (event) {
        event.preventDefault();
        var bar = document.getElementById('upload-progress');
        var box = document.getElementById('upload-progress-box');
        box.classList.remove('hidden');
        var xhr = new XMLHttpRequest();
        xhr.open('POST', form.action);
        xhr.upload.onprogress = function (e) { if (e.lengthComputable) { bar.max = e.total; bar.value = e.loaded; } };
        xhr.onload = function () {
          if (xhr.status >= 400) { document.open(); document.write(xhr.responseText); document.close(); return; }
          window.location.href = xhr.responseURL || form.action;
        };
        xhr.onerror = function () { box.textContent = form.getAttribute('data-failed'); };
        xhr.send(new FormData(form));
      });
    });
    """
}
