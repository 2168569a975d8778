// The Print button of the result page. A file of its own, because the pages'
// Content-Security-Policy allows no inline script (no onclick attributes).
document.addEventListener("click", function (event) {
  if (event.target instanceof Element && event.target.closest("[data-print]")) {
    window.print();
  }
});
