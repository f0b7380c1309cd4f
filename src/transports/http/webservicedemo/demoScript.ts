/** The demo's only script: copy buttons. The page works without it. */
export const demoScript = `document.querySelectorAll('button[data-copy]').forEach(function (button) {
  button.hidden = false;
  button.addEventListener('click', function () {
    var text = document.getElementById(button.getAttribute('data-copy')).textContent;
    var label = button.textContent;
    navigator.clipboard.writeText(text).then(function () {
      button.textContent = button.getAttribute('data-copied');
      setTimeout(function () { button.textContent = label; }, 1500);
    });
  });
});
`;
