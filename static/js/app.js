// Show a message when an htmx request fails, instead of leaving the page silently unchanged.
document.addEventListener("htmx:responseError", showFailure);
document.addEventListener("htmx:sendError", showFailure);

function showFailure() {
  const notice = document.getElementById("request-failed");
  if (notice) {
    notice.hidden = false;
    notice.scrollIntoView({ block: "nearest" });
  }
}
