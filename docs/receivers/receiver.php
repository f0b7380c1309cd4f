<?php
// A webhook receiver that checks what it gets: the signature (Standard
// Webhooks), duplicates (webhook-id) and gaps (webhook-sequence and
// webhook-previous-sequence). Run it with `php -S 0.0.0.0:8000 receiver.php`.
//   WEBHOOK_SECRET  the webhook's secret (whsec_…, from CreateWebHook)
//   RECEIVER_STATE  a file that keeps the sequences received (JSON)
//   RECEIVER_LOG    where each decision is written, one line each

$secret = getenv('WEBHOOK_SECRET');
$stateFile = getenv('RECEIVER_STATE') ?: sys_get_temp_dir() . '/webhook-sequences.json';
$log = fn (string $line) => file_put_contents(getenv('RECEIVER_LOG') ?: 'php://stderr', $line . "\n", FILE_APPEND);

$id = $_SERVER['HTTP_WEBHOOK_ID'] ?? '';
$timestamp = $_SERVER['HTTP_WEBHOOK_TIMESTAMP'] ?? '';
$body = file_get_contents('php://input');

// 1. The signature: HMAC-SHA256 of "id.timestamp.body" with the secret's base64 part.
//    While a secret is rotated, two signatures come, space-separated: either may match.
$key = base64_decode(substr($secret, strlen('whsec_')));
$expected = 'v1,' . base64_encode(hash_hmac('sha256', "$id.$timestamp.$body", $key, true));
$valid = false;
foreach (explode(' ', $_SERVER['HTTP_WEBHOOK_SIGNATURE'] ?? '') as $signature) {
    $valid = $valid || hash_equals($expected, $signature);
}
if (!$valid || abs(time() - (int) $timestamp) > 300) {
    $log("refused $id: bad signature or timestamp");
    http_response_code(401);
    exit;
}

// 2. A test request (TestWebHook, the portal's "Test the URL now") is signed like
//    an event but is none: answer 2xx and handle nothing.
if (($_SERVER['HTTP_X_WEBHOOK_EVENT'] ?? '') === 'webhook_test') {
    $log("test request $id: answered, nothing handled");
    http_response_code(204);
    exit;
}

// 3. Sequences: every event of a webhook has a number; each one names the number of
//    its subscriber's previous event (0: none). An event whose previous number never
//    arrived tells that one is missing (given up, discarded or erased).
$handle = fopen($stateFile, 'c+');
flock($handle, LOCK_EX);
$seen = json_decode(stream_get_contents($handle) ?: '{}', true);
$sequence = $_SERVER['HTTP_WEBHOOK_SEQUENCE'] ?? null;
$previous = $_SERVER['HTTP_WEBHOOK_PREVIOUS_SEQUENCE'] ?? '0';
if ($sequence !== null && isset($seen[$sequence])) {
    $log("duplicate $id (sequence $sequence): already handled");
} else {
    if ($sequence !== null && $previous !== '0' && !isset($seen[$previous])) {
        $log("gap before sequence $sequence: sequence $previous never arrived");
    }
    // … handle the event here: json_decode($body, true) …
    if ($sequence !== null) {
        $seen[$sequence] = true;
    }
    $log("accepted $id (sequence " . ($sequence ?? 'none') . ")");
}
ftruncate($handle, 0);
rewind($handle);
fwrite($handle, json_encode($seen));
flock($handle, LOCK_UN);
http_response_code(204);
