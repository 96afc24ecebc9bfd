// useStyle links payload.css, the styles of the Publish dialog and the
// payload views, once: they live in a file of their own rather than in
// app.css, and the page's CSP allows only stylesheets of our origin.
let linked = false;

export function useStyle() {
  if (linked || typeof document === 'undefined') return;
  linked = true;
  const link = document.createElement('link');
  link.rel = 'stylesheet';
  link.href = '/web/static/payload.css';
  document.head.append(link);
}
