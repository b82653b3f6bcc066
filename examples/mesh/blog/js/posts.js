// Lists the posts the API service knows, as the gateway routes /api/ to it.
(async () => {
  const list = document.getElementById('posts');
  const status = document.getElementById('posts-status');
  try {
    const res = await fetch('/api/posts.json', { headers: { accept: 'application/json' } });
    if (!res.ok) throw new Error(`the API answered ${res.status}`);
    const { posts } = await res.json();
    for (const post of posts) {
      const item = document.createElement('li');
      const link = document.createElement('a');
      link.href = post.path;
      link.textContent = post.title;
      const date = document.createElement('time');
      date.dateTime = post.date;
      date.textContent = post.date;
      const summary = document.createElement('p');
      summary.textContent = post.summary;
      item.append(link, date, summary);
      list.append(item);
    }
    status.textContent = `${posts.length} posts from the API service.`;
  } catch (error) {
    status.textContent = `The API service could not be reached: ${error.message}.`;
  }
})();
