// Save a card with Stripe.js Elements: a SetupIntent from our server, confirmed by Stripe.js,
// then the PaymentMethod id posted back so bookings can use it.
(function () {
  "use strict";
  var form = document.getElementById("card-form");
  if (!form) {
    return;
  }
  var submit = document.getElementById("card-submit");
  var errors = document.getElementById("card-errors");
  if (typeof window.Stripe !== "function") {
    document.getElementById("card-unavailable").hidden = false;
    return;
  }
  var stripe = window.Stripe(form.getAttribute("data-key"));
  var card = stripe.elements().create("card");
  card.mount("#card-element");
  submit.disabled = false;

  function fail(message) {
    errors.textContent = message;
    submit.disabled = false;
    submit.textContent = "Save card";
  }

  form.addEventListener("submit", function (event) {
    if (document.getElementById("payment-method").value) {
      return; // the confirmed card is being posted
    }
    event.preventDefault();
    errors.textContent = "";
    submit.disabled = true;
    submit.textContent = "Saving…";
    var body = new URLSearchParams();
    body.append("csrf_token", form.querySelector("[name=csrf_token]").value);
    fetch(form.getAttribute("data-setup-url"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: body.toString()
    }).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) {
          throw new Error(data.error || "The card could not be saved.");
        }
        return stripe.confirmCardSetup(data.client_secret, { payment_method: { card: card } });
      });
    }).then(function (result) {
      if (result.error) {
        throw new Error(result.error.message || "The card was refused.");
      }
      var method = result.setupIntent.payment_method;
      document.getElementById("payment-method").value = typeof method === "string" ? method : method.id;
      form.submit();
    }).catch(function (error) {
      fail(error.message);
    });
  });
})();
