import { createHash } from 'node:crypto';

/**
 * The one script of the /activate and /reset-password pages, inlined and allowed by its hash in
 * their Content-Security-Policy. It reads the token from the page's own URL (the server never
 * writes it into the page), posts it as JSON to the API beside the page, and shows the answer:
 * the page's success text, or the problem's translated `detail` and per-field messages. Nothing is
 * sent until the person clicks: a mail scanner that opens links (and runs their scripts) must not
 * activate an account someone else registered with this address. The token is then taken out of
 * the address bar and the history.
 */
export const PAGE_SCRIPT = `(function () {
  var form = document.getElementById('gatehouse-form');
  var outcome = document.getElementById('outcome');
  var data = form.dataset;
  var params = new URLSearchParams(window.location.search);
  var token = params.get(data.tokenParameter);
  if (token) {
    params.delete(data.tokenParameter);
    var rest = params.toString();
    window.history.replaceState(null, '', window.location.pathname + (rest ? '?' + rest : ''));
  }
  function show(text, state, code) {
    outcome.textContent = text;
    outcome.setAttribute('data-outcome', state);
    if (code) outcome.setAttribute('data-code', code);
    else outcome.removeAttribute('data-code');
  }
  if (!token) {
    form.hidden = true;
    show(data.missing, 'failure');
    return;
  }
  var button = form.querySelector('button');
  form.addEventListener('submit', function (event) {
    event.preventDefault();
    var body = {};
    body[data.tokenField] = token;
    var password = form.elements.namedItem('newPassword');
    if (password) {
      body.newPassword = password.value;
      password.removeAttribute('aria-invalid');
    }
    button.disabled = true;
    show(data.working, 'working');
    fetch(data.action, {
      method: 'POST',
      credentials: 'omit',
      headers: { 'content-type': 'application/json', 'accept-language': document.documentElement.lang },
      body: JSON.stringify(body)
    })
      .then(function (response) {
        if (response.ok) {
          form.hidden = true;
          show(data.success, 'success');
          return;
        }
        return response.json().then(function (problem) {
          var errors = Array.isArray(problem.errors) ? problem.errors : [];
          if (password && errors.some(function (error) { return error.field === 'newPassword'; })) password.setAttribute('aria-invalid', 'true');
          var messages = errors.map(function (error) { return error.message; }).filter(Boolean);
          show([problem.detail || data.failed].concat(messages).join(' '), 'failure', problem.code);
          button.disabled = false;
        });
      })
      .catch(function () {
        show(data.failed, 'failure');
        button.disabled = false;
      });
  });
})();`;

/** The CSP source that allows exactly PAGE_SCRIPT. */
export const PAGE_SCRIPT_HASH = `'sha256-${createHash('sha256').update(PAGE_SCRIPT).digest('base64')}'`;
