/** Netlify Blobs' local server in a process of its own, as the service is apart from the functions. Prints how to reach it. */
import { BlobsServer } from "@netlify/blobs/server";

const [directory, token] = process.argv.slice(2) as [string, string];
const server = new BlobsServer({ directory, token });
const { port } = await server.start();
console.log(JSON.stringify({ url: `http://127.0.0.1:${port}` }));
